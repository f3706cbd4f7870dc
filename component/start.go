package component

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/metrics"
	"github.com/at-technology/atqueue/supervision"
	"github.com/at-technology/atqueue/wire"
)

// Runtime is what a component needs from the process it runs in. actors.System provides
// one; tests may build their own.
type Runtime struct {
	Root   *actor.RootContext
	Bridge *actor.PID // the bridge actor
	// Parent is the supervisor the component's actor is spawned under, with the
	// component's own policy (a one-for-one tree), or with the tree's (an all-for-one
	// group). Nil: a tree of its own, stopped with the component.
	Parent *supervision.Tree
	Log    *slog.Logger
	// Dispatcher runs the component's mailbox (nil: protoactor's default).
	Dispatcher actor.Dispatcher
	// Mailbox makes the component's mailbox (nil: protoactor's default).
	Mailbox actor.MailboxProducer
	// Middleware wraps the component actor's Receive (tests inject failures this way).
	Middleware []actor.ReceiverMiddleware
	// Metrics counts the component's calls and panics (nil: nothing is counted).
	Metrics *metrics.Metrics
	// NoDirect keeps every call of the component on the registry's route, also to Go
	// peers that could be called directly (actors.WithDirectCalls(false)).
	NoDirect bool
	// Checks paces the registry checks of the process's components (CheckPacerProps);
	// nil: each component checks on its own timer.
	Checks *actor.PID
}

var treeSeq atomic.Uint64

// leaveGrace bounds how long a component stopped with its supervisor (the System's
// Shutdown) may take to leave: unregister, and let its running methods answer.
const leaveGrace = 15 * time.Second

// startResult tells Start how the first registration ended.
type startResult struct{ err error }

// Start registers def with the registry (bounded by ctx, or by the register timeout when
// ctx has no deadline) and starts consuming its queue, in a new actor under rt.Parent.
// The returned Handle must be stopped with Stop.
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
	deadline, _ := ctx.Deadline()
	// A Go component's session is uuid3 of its name (it never asks for another): it
	// consumes its queue before it registers, and is answered there by a Go registry.
	h := &Handle{def: def, sid: wire.SessionID(def.name), root: rt.Root, log: log, metrics: rt.Metrics, done: make(chan struct{})}
	base, cancelBase := context.WithCancel(context.Background())
	r := newReply(rt.Root.ActorSystem())
	defer r.close()
	k := &core{
		h: h, def: def, bridge: rt.Bridge, log: log, instance: wire.NewID(), noDirect: rt.NoDirect, pacer: rt.Checks,
		startWaiter: r.pid, startDeadline: deadline,
		pending: map[string]waiter{}, internal: map[string]internalKind{},
		seen: newSeen(def.dedupeWindow), jobs: make(chan job),
		baseCtx: base, cancelBase: cancelBase, serveCtx: context.WithValue(base, handleKey{}, h),
	}
	if def.dedupeFile != "" && def.dedupeWindow > 0 {
		j, err := openJournal(def.dedupeFile, k.seen, rt.Root)
		if err != nil {
			cancelBase()
			return nil, fmt.Errorf("%w: dedupe journal: %v", ErrInvalidDefinition, err)
		}
		k.journal = j
	}
	props := actor.PropsFromProducer(func() actor.Actor { return &componentActor{k: k} })
	if rt.Dispatcher != nil {
		props = props.Configure(actor.WithDispatcher(rt.Dispatcher))
	}
	if rt.Mailbox != nil {
		props = props.Configure(actor.WithMailbox(rt.Mailbox))
	}
	if len(rt.Middleware) > 0 {
		props = props.Configure(actor.WithReceiverMiddleware(rt.Middleware...))
	}
	parent, own := rt.Parent, false
	if parent == nil {
		t, err := supervision.NewTree(rt.Root, fmt.Sprintf("atq-%s-%d", sanitize(def.name), treeSeq.Add(1)), supervision.DefaultPolicy(), nil)
		if err != nil {
			cancelBase()
			_ = k.journal.close()
			return nil, err
		}
		parent, own = t, true
	}
	var err error
	name := fmt.Sprintf("%s-%d", sanitize(def.name), treeSeq.Add(1))
	policy := def.policy
	h.callers = newCallers(rt.Root.ActorSystem()) // closed when the actor has stopped
	h.pid, err = parent.SpawnChild(ctx, name, props, supervision.Child{Policy: &policy, Leave: leaveGrace})
	if err != nil {
		h.callers.close()
		cancelBase()
		_ = k.journal.close()
		if own {
			_ = parent.Stop(context.Background())
		}
		return nil, err
	}
	if own {
		go func() { <-h.done; _ = parent.Stop(context.Background()) }()
	}
	var res any
	select {
	case res = <-r.ch:
	case <-ctx.Done():
		res = &startResult{err: fmt.Errorf("no answer from the registry: %w", ctx.Err())}
	}
	switch res := res.(type) {
	case *startResult:
		err = res.err
	case error:
		err = res
	}
	if err != nil {
		_ = h.Stop(context.Background())
		return nil, fmt.Errorf("%w: %s: %w", ErrRegistration, def.name, err)
	}
	return h, nil
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
