package registry

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/wire"
)

// ErrAnotherRegistry is the error of a registry that finds its queue held by another
// registry (a Go one, or python -m at_queue) and does not stand by.
var ErrAnotherRegistry = errors.New("another registry serves this virtual host")

// Ready asks the registry to answer (with *Ready) once it serves its queue, or at once
// when it cannot (Err) or stands by while another registry serves (Standby, with
// WithStandby).
type Ready struct {
	Err     error
	Standby bool
}

// AwaitActive asks the registry to answer with *Ready once it serves, also when it stands
// by now, or at once when it cannot (Err).
type AwaitActive struct{}

type readyWaiter struct {
	pid    *actor.PID
	active bool // an AwaitActive: a standby answer does not do
}

// retryOwn asks to try the own queue again (standby).
type retryOwn struct{}

// lostRetry is how soon a registry whose queue was taken tries again when it has no
// standby interval of its own.
const lostRetry = time.Second

// openOwn consumes the registry's own send queue as its only consumer: the queue is where
// every component registers, and a registry holds it alone, so that a second registry
// cannot split the traffic. Exclusive consumption is a consumer flag, not a queue argument:
// Python peers declaring the queue see nothing different.
func (r *registryActor) openOwn(c actor.Context) {
	st := r.st
	st.opening = true
	c.Request(st.bridge, &bridge.Open{
		Session:   wire.RegistrySession,
		Queue:     wire.SendQueue(wire.RegistrySession),
		Prefetch:  st.cfg.prefetch,
		Exclusive: true,
	})
}

func (r *registryActor) openedOwn(c actor.Context, m *bridge.Opened) {
	st := r.st
	st.opening = false
	switch {
	case m.Err == nil && st.active:
		c.Send(st.bridge, &bridge.Release{Sub: m.Sub})
		return
	case m.Err == nil:
		st.own, st.active = m.Sub, true
		if st.standing {
			st.cfg.log.Warn("the other registry is gone; this one serves now", "queue", m.Queue)
		} else {
			st.cfg.log.Info("registry listening", "queue", m.Queue)
		}
		st.standing = false
		r.restore(c)
		r.probeAll(c)
		r.handleHeld(c) // at once without a state file; after the load with one
	case st.standing || st.cfg.standby && errors.Is(m.Err, bridge.ErrInUse):
		if !st.standing {
			st.cfg.log.Warn("another registry serves this virtual host; standing by", "queue", m.Queue, "retry", st.cfg.standbyEvery)
		} else if !errors.Is(m.Err, bridge.ErrInUse) {
			st.cfg.log.Warn("cannot consume the registry queue yet", "err", m.Err)
		}
		st.standing = true
		r.retryOwnLater(c)
	case errors.Is(m.Err, bridge.ErrInUse):
		st.readyErr = fmt.Errorf("%w: %s already has a consumer (a Go registry, or python -m at_queue); stop that one, or run this one as a standby that takes over when it stops (atq registry --standby)",
			ErrAnotherRegistry, m.Queue)
		st.cfg.log.Error("registry refuses to start", "err", st.readyErr)
	default:
		st.readyErr = m.Err
		st.cfg.log.Error("registry cannot consume its own queue", "err", m.Err)
	}
	r.notify(c)
}

// lostOwn steps down: after a lost connection another registry took the queue. This one
// releases what it consumes, forgets its directory (the one now serving owns it; the
// state file is its record) and stands by to take over again.
func (r *registryActor) lostOwn(c actor.Context, err error) {
	st := r.st
	if !st.active {
		return
	}
	st.cfg.log.Error("another registry took the registry queue while the connection was down; standing by", "err", err)
	st.active, st.standing = false, true
	r.releaseAll(c)
	st.byName, st.bySid, st.order = map[string]*entry{}, map[string]*entry{}, nil
	r.retryOwnLater(c)
}

func (r *registryActor) retryOwnLater(c actor.Context) {
	every := r.st.cfg.standbyEvery
	if every <= 0 {
		every = lostRetry
	}
	self, sys := c.Self(), c.ActorSystem()
	if r.st.retryTimer != nil {
		r.st.retryTimer.Stop()
	}
	r.st.retryTimer = time.AfterFunc(every, func() { sys.Root.Send(self, &retryOwn{}) })
}

// ready answers a Ready or AwaitActive now, or keeps its sender waiting.
func (r *registryActor) ready(c actor.Context, active bool) {
	if ans := r.readiness(active); ans != nil {
		c.Respond(ans)
		return
	}
	r.st.waiters = append(r.st.waiters, readyWaiter{pid: c.Sender(), active: active})
}

// readiness is the answer a waiter gets now, nil while it must wait.
func (r *registryActor) readiness(active bool) *Ready {
	st := r.st
	switch {
	case st.readyErr != nil:
		return &Ready{Err: st.readyErr}
	case st.active && !st.restoring:
		return &Ready{}
	case st.standing && !active:
		return &Ready{Standby: true}
	}
	return nil
}

// notify answers the waiters whose answer is known now.
func (r *registryActor) notify(c actor.Context) {
	st := r.st
	keep := st.waiters[:0]
	for _, w := range st.waiters {
		if ans := r.readiness(w.active); ans != nil {
			c.Send(w.pid, ans)
		} else {
			keep = append(keep, w)
		}
	}
	st.waiters = keep
}
