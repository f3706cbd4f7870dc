package component

import (
	"errors"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/wire"
)

// waiter is who waits for the answers to a request: one answer, or (stream) every answer
// until the caller forgets the request.
type waiter struct {
	pid    *actor.PID
	stream bool
	// A direct call keeps what it needs to be reported, and to take the registry's
	// route after all.
	direct  bool
	to      string
	method  string
	start   time.Time
	body    []byte
	headers wire.Headers
}

// call records a call made through the Handle and publishes its request; the answer, or
// the reason there is none, goes to the caller's reply process.
func (k *core) call(c actor.Context, m *callRequest) {
	if k.phase == stopped {
		c.Send(c.Sender(), &toCaller{id: m.id, msg: ErrStopped})
		return
	}
	k.followDirectory(c)
	w := waiter{pid: c.Sender(), stream: m.stream}
	// The request is its publish's tag: no tag of its own to allocate per call.
	p := &bridge.Publish{Body: m.body, FailFast: m.failFast, Notify: c.Self(), ErrorsOnly: true, Tag: m}
	if to, ok := k.directPeer(m.receiver); ok && !m.stream {
		w.direct, w.to, w.method, w.start, w.body, w.headers = true, m.receiver, m.method, time.Now(), m.body, m.headers
		m.direct = true
		p.Queue, p.Headers = to.queue, k.directHeaders(m.headers)
	} else {
		p.Queue, p.Headers = k.sendQueue(), m.headers
	}
	k.pending[m.id] = w
	k.h.metrics.Pending(k.def.name, len(k.pending))
	c.Send(k.bridge, p)
}

// failPending answers the call id, if it still waits, with the failure of its publish.
func (k *core) failPending(c actor.Context, id string, err error) {
	if w, ok := k.pending[id]; ok {
		delete(k.pending, id)
		c.Send(w.pid, &toCaller{id: id, msg: err})
	}
}

// published hears of publishes that failed: a call's request, or the register request.
func (k *core) published(c actor.Context, m *bridge.Published) {
	switch tag := m.Tag.(type) {
	case *callRequest:
		if tag.direct && errors.Is(m.Err, bridge.ErrNoQueue) && k.reroute(c, tag.id) {
			return
		}
		k.failPending(c, tag.id, m.Err)
	case callTag: // a request rerouted to the registry
		k.failPending(c, tag.id, m.Err)
	case registerTag:
		switch {
		case k.reg == nil || k.reg.id != tag.id:
		case errors.Is(m.Err, bridge.ErrNoQueue) && !k.reg.shared:
			// No registry has run here yet: reading its shared queue declares its queue
			// pair, and the request goes again to wait there for the registry to start.
			k.log.Info("no registry's queue yet; waiting for a registry", "component", k.def.name)
			k.reg.again = true
			k.readShared(c, tag.id)
		default:
			k.registrationFailed(c, m.Err)
		}
	}
}

// answered hands an answer to whoever waits for it: a caller, or the actor itself.
func (k *core) answered(c actor.Context, env wire.Envelope, headers wire.Headers) {
	if w, ok := k.pending[env.AnswerTo]; ok {
		if !w.stream {
			delete(k.pending, env.AnswerTo)
			k.h.metrics.Pending(k.def.name, len(k.pending))
		}
		if w.direct {
			outcome, text := wire.Outcome(env.Sender, env.Message)
			k.ended(c, env.AnswerTo, w, outcome, text)
		}
		c.Send(w.pid, &callAnswer{id: env.AnswerTo, env: env})
		return
	}
	if kind, ok := k.internal[env.AnswerTo]; ok {
		if kind == directoryWatch {
			k.directoryAnswer(env)
			return
		}
		delete(k.internal, env.AnswerTo)
		k.internalAnswer(c, kind, env, headers)
		return
	}
	k.log.Debug("answer to no pending request", "component", k.def.name, "answer_to", env.AnswerTo, "from", env.Sender)
}
