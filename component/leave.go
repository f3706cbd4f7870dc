package component

import (
	"context"
	"fmt"
	"sync"

	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/wire"
)

// drain runs when the supervisor has stopped the component for good. The registry still
// routes requests to the component until it handles the unregister that shutdown sent,
// and requests waiting in the mailbox were dropped with the actor. Both sit in the queue:
// drain consumes it again and answers each with ComponentStoppedException, so their
// callers learn at once instead of at their deadline. The registry's confirmation comes
// through the same queue after every request it routed, so drain ends there (or after
// unregisterWait when no registry answers) and what arrives later stays in the queue.
func (h *Handle) drain(unregisterID string) {
	defer h.workers.Done()
	confirmed := make(chan struct{})
	var once sync.Once
	ctx, cancel := context.WithTimeout(context.Background(), unregisterWait)
	defer cancel()
	sub, err := bridge.OpenFrom(ctx, h.root, h.brPID, &bridge.Open{
		Session: h.sid, Queue: wire.RecieveQueue(h.sid), Prefetch: h.def.prefetch,
		Deliver: func(d *bridge.Delivery) {
			if h.drained(d, unregisterID) {
				once.Do(func() { close(confirmed) })
			}
		},
	}, unregisterWait)
	if err != nil {
		h.log.Warn("requests left in the queue of a stopped component stay there", "component", h.def.name, "err", err)
		return
	}
	select {
	case <-confirmed:
	case <-ctx.Done():
		h.log.Warn("the registry did not confirm the unregister; requests arriving later stay in the queue", "component", h.def.name)
	}
	h.root.Send(h.brPID, &bridge.Release{Sub: sub})
}

// drained settles one delivery reaching a stopped component and reports whether it was
// the registry's confirmation of unregisterID.
func (h *Handle) drained(d *bridge.Delivery, unregisterID string) bool {
	env, err := wire.Decode(d.Body, h.def.maxBody)
	if err != nil || env.AnswerTo != "" {
		_ = d.Ack()
		return err == nil && env.AnswerTo == unregisterID
	}
	switch answer, fresh, _ := h.seen.begin(env.Sender, env.MessageID); {
	case !fresh && answer != nil:
		h.publishAnswer(answer, nil, d)
	case !fresh: // a method still runs it and will answer
		_ = d.Ack()
	default:
		h.reply(&env, wire.ErrorsMessage(wire.Exception(
			fmt.Sprintf("Component %s has stopped after failing too often; message %s from %s was not executed",
				wire.PyString(h.def.name), wire.PyString(env.MessageID), wire.PyString(env.Sender)),
			ComponentStoppedException, h.sid, h.def.name, env.MessageID, env.Message)), nil, d)
	}
	return false
}
