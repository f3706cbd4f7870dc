package component

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/supervision"
	"github.com/at-technology/atqueue/wire"
)

// Runtime is what a component needs from the process it runs in. actors.System provides
// one; tests may build their own.
type Runtime struct {
	Root   *actor.RootContext
	Bridge *actor.PID // the bridge actor
	Log    *slog.Logger
	// Dispatcher runs the component's mailbox (nil: protoactor's default).
	Dispatcher actor.Dispatcher
}

var treeSeq atomic.Uint64

// instanceHeader carries a running component's instance id to the registry, which
// refuses a registration of a live component's name from another instance (see
// registry.InstanceHeader).
const instanceHeader = "atq_instance"

// Start registers def with the registry (bounded by ctx, or by the register timeout when
// ctx has no deadline), spawns its actor under a supervisor with the component's policy,
// and starts consuming its queue. The returned Handle must be stopped with Stop.
func Start(ctx context.Context, rt Runtime, def *Component) (*Handle, error) {
	if len(def.errs) > 0 {
		return nil, errors.Join(def.errs...)
	}
	if err := def.policy.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidDefinition, err)
	}
	log := rt.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, def.registerTimeout)
		defer cancel()
	}
	dedupe := newSeen(def.dedupeWindow)
	dedupe.errLog = func(err error) { log.Error("dedupe journal", "component", def.name, "err", err) }
	if def.dedupeFile != "" && def.dedupeWindow > 0 {
		j, err := openJournal(def.dedupeFile, dedupe)
		if err != nil {
			return nil, fmt.Errorf("%w: dedupe journal: %v", ErrInvalidDefinition, err)
		}
		dedupe.j = j
	}
	started := false
	defer func() {
		if !started {
			_ = dedupe.j.close()
		}
	}()
	instance := wire.NewID()
	sid, err := register(ctx, rt, def, instance, log)
	if err != nil {
		return nil, err
	}
	base, cancelBase := context.WithCancel(context.Background())
	h := &Handle{
		def: def, sid: sid, root: rt.Root, brPID: rt.Bridge, log: log,
		pending: map[string]chan outcome{}, done: make(chan struct{}), jobs: make(chan job), seen: dedupe,
		baseCtx: base, cancelBase: cancelBase, instance: instance,
	}
	notify := func(ev supervision.Event) {
		switch ev.Directive {
		case supervision.Restart:
			log.Warn("component restarts", "component", def.name, "reason", ev.Reason, "restarts", ev.Restarts, "delay", ev.Delay)
		case supervision.Stop:
			log.Error("component failed too often and stops", "component", def.name, "reason", ev.Reason, "restarts", ev.Restarts)
		}
	}
	h.tree, err = supervision.NewTree(rt.Root, fmt.Sprintf("atq-%s-%d", sanitize(def.name), treeSeq.Add(1)), def.policy, notify)
	if err != nil {
		cancelBase()
		return nil, err
	}
	props := actor.PropsFromProducer(func() actor.Actor { return &componentActor{h: h} })
	if rt.Dispatcher != nil {
		props = props.Configure(actor.WithDispatcher(rt.Dispatcher))
	}
	h.pid, err = h.tree.Spawn(ctx, "component", props)
	if err != nil {
		cancelBase()
		_ = h.tree.Stop(context.Background())
		return nil, err
	}
	pid, root := h.pid, rt.Root
	h.sub, err = bridge.OpenFrom(ctx, rt.Root, rt.Bridge, &bridge.Open{
		Session: sid, Queue: wire.RecieveQueue(sid), Prefetch: def.prefetch,
		Deliver: func(d *bridge.Delivery) { root.Send(pid, d) },
	}, def.registerTimeout)
	if err != nil {
		_ = h.Stop(context.Background())
		return nil, fmt.Errorf("%w: consuming the queue of %s: %v", ErrRegistration, def.name, err)
	}
	started = true
	log.Info("component registered", "component", def.name, "session", sid)
	if def.registryCheck > 0 {
		h.workers.Add(1)
		go h.watchRegistration(rt)
	}
	return h, nil
}

// watchRegistration asks the registry, every registryCheck, whether it still knows this
// component, and registers again when it does not (or does not answer: a registry that
// lost its directory does not consume this component's queue at all). It ends when the
// component stops.
func (h *Handle) watchRegistration(rt Runtime) {
	defer h.workers.Done()
	every := h.def.registryCheck
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-h.baseCtx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(h.baseCtx, every)
		ok, err := h.CheckRegistered(ctx, h.def.name)
		cancel()
		if h.baseCtx.Err() != nil || h.leaving.Load() {
			return
		}
		if err == nil && ok {
			t.Reset(every)
			continue
		}
		h.log.Warn("the registry does not know this component; registering again", "component", h.def.name, "err", err)
		rctx, rcancel := context.WithTimeout(h.baseCtx, h.def.registerTimeout)
		sid, err := register(rctx, rt, h.def, h.instance, h.log)
		rcancel()
		switch {
		case err != nil:
			h.log.Error("registering again failed", "component", h.def.name, "err", err)
		case sid != h.sid:
			h.log.Error("the registry gave another session; keeping the old one", "component", h.def.name, "session", sid)
		default:
			h.log.Info("registered again", "component", h.def.name, "session", sid)
		}
		t.Reset(every)
	}
}

// Registration answers meant for other components are held, not given back at once, and
// released every holdFor: given back at once they come straight back (RabbitMQ requeues at
// the head) and a handful of stale answers would be all this registrant ever sees; held
// for good, they would starve the others, as at_queue's registrants starve each other.
const (
	holdFor = 100 * time.Millisecond
	// registrationPrefetch lets every message of the shared queue reach this registrant,
	// its own answer included, however many stale answers wait before it.
	registrationPrefetch = 1<<16 - 1
)

// register runs the registration exchange of spec §5.1 on the registry's session. Unlike
// the Python package it takes only its own answer off the shared queue and gives every
// other delivery back within holdFor, so that components registering together do not
// hold each other's answers (spec quirk 5) and stale answers do not hide its own, and it
// gives up when ctx ends.
func register(ctx context.Context, rt Runtime, def *Component, instance string, log *slog.Logger) (string, error) {
	req := wire.Envelope{
		Sender: def.name, Reciever: wire.RegistryName, MessageID: wire.NewID(),
	}
	var err error
	req.Message, err = json.Marshal(wire.Object{{Key: "type", Value: wire.TypeRegister}, {Key: "component", Value: def.describe()}})
	if err != nil {
		return "", fmt.Errorf("%w: encoding the description: %v", ErrInvalidDefinition, err)
	}
	body, err := req.Marshal()
	if err != nil {
		return "", fmt.Errorf("%w: encoding the description: %v", ErrInvalidDefinition, err)
	}
	var (
		mu   sync.Mutex
		held []*bridge.Delivery
	)
	got := make(chan wire.Envelope, 1)
	release := func() {
		mu.Lock()
		back := held
		held = nil
		mu.Unlock()
		for _, d := range back {
			_ = d.Nack(true)
		}
	}
	sub, err := bridge.OpenFrom(ctx, rt.Root, rt.Bridge, &bridge.Open{
		Session: wire.RegistrySession, Queue: wire.RecieveQueue(wire.RegistrySession), Prefetch: registrationPrefetch,
		Deliver: func(d *bridge.Delivery) {
			env, err := wire.Decode(d.Body, def.maxBody)
			if err != nil {
				log.Warn("dropped an unreadable message on the registry queue", "err", err)
				_ = d.Ack()
				return
			}
			if env.Reciever != def.name || env.AnswerTo != req.MessageID {
				mu.Lock()
				held = append(held, d)
				mu.Unlock()
				return
			}
			_ = d.Ack()
			select {
			case got <- env:
			default:
			}
		},
	}, def.registerTimeout)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrRegistration, def.name, err)
	}
	defer rt.Root.Send(rt.Bridge, &bridge.Release{Sub: sub})
	defer release()
	published := make(chan error, 1)
	rt.Root.Send(rt.Bridge, &bridge.Publish{Queue: wire.SendQueue(wire.RegistrySession), Body: body,
		Headers: wire.Headers{instanceHeader: instance}, Done: func(err error) { published <- err }})
	hold := time.NewTicker(holdFor)
	defer hold.Stop()
	for waiting := true; waiting; {
		select {
		case err := <-published:
			if err != nil {
				return "", fmt.Errorf("%w: %s: %v", ErrRegistration, def.name, err)
			}
			waiting = false
		case <-hold.C:
			release()
		case <-ctx.Done():
			return "", fmt.Errorf("%w: %s: %w", ErrRegistration, def.name, ctx.Err())
		}
	}
	for {
		select {
		case ans := <-got:
			return registrationAnswer(def, ans)
		case <-hold.C:
			release()
		case <-ctx.Done():
			return "", fmt.Errorf("%w: %s: no answer from the registry: %w", ErrRegistration, def.name, ctx.Err())
		}
	}
}

// registrationAnswer reads the session id out of the registry's answer.
func registrationAnswer(def *Component, ans wire.Envelope) (string, error) {
	a, err := wire.DecodeAnswer(ans.Message)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrRegistration, def.name, err)
	}
	if a.HasErrors {
		return "", fmt.Errorf("%w: %s: the registry refused: %s", ErrRegistration, def.name, wire.ErrorTexts(a.Errors))
	}
	var p struct {
		SessionID string `json:"session_id"`
	}
	if json.Unmarshal(ans.Message, &p) != nil || p.SessionID == "" {
		return "", fmt.Errorf("%w: %s: the answer has no session_id", ErrRegistration, def.name)
	}
	return p.SessionID, nil
}

// sanitize keeps actor names readable and free of protoactor's path separator.
func sanitize(name string) string {
	out := make([]rune, 0, len(name))
	for _, r := range name {
		if r == '/' || r == '$' || r < 0x20 {
			r = '_'
		}
		out = append(out, r)
	}
	if len(out) > 40 {
		out = out[:40]
	}
	return string(out)
}
