package component

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/supervision"
	"github.com/at-technology/atqueue/wire"
)

// phase is where a component is in its life.
type phase int

const (
	registering phase = iota // its first registration is under way
	serving                  // registered and consuming its queue
	leaving                  // Stop: unregistering, then waiting for the methods that run
	stopped                  // its actor has stopped
)

// core is everything a running component knows. It lives in its actor: only Receive reads
// or changes it (workers get what they need in their jobs and report back by message). It
// outlives restarts of the actor, so that a restart loses no pending call and no request.
type core struct {
	h        *Handle
	def      *Component
	bridge   *actor.PID
	log      *slog.Logger
	instance string // this run's id, sent with register and unregister

	phase         phase
	startWaiter   *actor.PID // Start, waiting for the first registration (*startResult)
	startDeadline time.Time  // bounds the first registration
	startTimer    *time.Timer
	sub           bridge.SubID
	goRegistry    bool // the registry said it is a Go one: it answers the Go extensions
	noDirect      bool // every call takes the registry's route (actors.WithDirectCalls(false))
	dir           directory
	reg           *registration

	pending  map[string]waiter // calls made: request id → who waits for the answer
	internal map[string]internalKind
	checkTmr *time.Timer // the next check that the registry still knows this component
	pacer    *actor.PID  // grants the checks (Runtime.Checks); nil: checkTmr alone
	// checkSeq numbers the probes of the registry checks (see checkRegistry); a probe
	// whose answer is not the last one's is stale.
	checkSeq     int
	checkProbing bool // a check's probe is on its way
	checkNoProbe bool // the transport cannot count consumers: every check asks the registry
	// unserved: the last check found no consumer on the send queue, so no registry knows
	// the component (until it registers again): Stop does not wait for the confirmation
	// of an unregister that nobody reads.
	unserved bool

	seen     *seen    // recent requests and their answers
	journal  *journal // nil without WithDedupeFile
	inflight int      // requests handed to workers and not yet served
	jobs     chan job // idle workers wait here; closed when the actor stops
	workers  sync.WaitGroup
	jobsDone bool

	leaveTmr    *time.Timer
	leaveID     string // the unregister request of Stop, while it waits for the answer
	unregistred bool   // an unregister was sent (it is sent once)
	released    bool   // the queue's consumer was released

	baseCtx    context.Context // parent of every method's context; cancelled at the stop
	serveCtx   context.Context // baseCtx with the Handle, for FromContext
	cancelBase context.CancelFunc
}

// internalKind names a request the actor makes for itself.
type internalKind int

const (
	checkRegistration internalKind = iota + 1
	unregistering
	registerAnswer
	directoryWatch // answered again with each change of the directory
)

// Messages the actor sends itself (timers, workers, the journal).
type (
	startFailed   struct{ err error }
	checkDue      struct{}
	checkTimeout  struct{ id string }
	checkLate     struct{ seq int } // a check's probe did not come back in time
	leaveDeadline struct{}
)

// componentActor is the component's mailbox. See core.
type componentActor struct{ k *core }

func (a *componentActor) Receive(c actor.Context) {
	k := a.k
	switch m := c.Message().(type) {
	case *actor.Started:
		k.started(c)
	case *startFailed:
		k.failStart(c, m.err)
	case *bridge.Opened:
		k.opened(c, m)
	case *bridge.Published:
		k.published(c, m)
	case *bridge.Delivery:
		k.delivery(c, m)
	case *bridge.Lost:
		if m.Sub == k.sub {
			// After a lost connection another process consumes the name's queue: it is
			// that component now, and this one can only stop.
			k.log.Error("another process took this component's queue; stopping", "component", k.def.name, "queue", m.Queue, "err", m.Err)
			k.sub, k.released = 0, true
			c.Stop(c.Self())
		}
	case *holdTick:
		if k.reg != nil && k.reg.id == m.id {
			k.releaseHeld(c)
		}
	case *sharedTick:
		k.readShared(c, m.id)
	case *callRequest:
		k.call(c, m)
	case *forgetCall:
		if w, ok := k.pending[m.id]; ok && w.direct {
			k.ended(c, m.id, w, "timeout", "")
		}
		delete(k.pending, m.id)
	case *reportDue:
		k.dir.timer = nil
		k.reportCalls(c)
	case *served:
		k.served(c, m)
	case *journaled:
		k.journaled(c, m)
	case *checkDue:
		k.checkRegistry(c)
	case *bridge.Probed:
		k.checkProbed(c, m)
	case *checkLate:
		if k.checkProbing && m.seq == k.checkSeq {
			k.checkProbing = false
			k.askRegistry(c)
		}
	case *checkTimeout:
		if k.internal[m.id] == checkRegistration {
			delete(k.internal, m.id)
			k.registerAgain(c, "the registry does not answer; registering again")
		}
	case *stopRequest, *supervision.Leave:
		k.leave(c)
	case *leaveDeadline:
		if k.leaveID != "" {
			k.log.Warn("the registry did not confirm the unregister", "component", k.def.name)
			delete(k.internal, k.leaveID)
			k.leaveID = ""
			k.finishLeaving(c)
		}
	case *restartRequested:
		panic(fmt.Sprintf("component %s: method %s asked for a restart: %v", k.def.name, m.method, m.err))
	case *actor.Stopping:
		k.stopping(c)
	case *actor.Stopped:
		k.stoppedMsg(c)
	}
}

// started runs when the actor starts, and again after each restart: the OnStart hook,
// then (the first time) the registration.
func (k *core) started(c actor.Context) {
	if k.def.onStart != nil {
		if err := k.def.onStart(k.baseCtx); err != nil {
			panic(fmt.Sprintf("component %s: start hook: %v", k.def.name, err))
		}
	}
	if k.phase == registering && k.reg == nil {
		if k.startTimer == nil {
			self, sys := c.Self(), c.ActorSystem()
			k.startTimer = time.AfterFunc(time.Until(k.startDeadline), func() {
				sys.Root.Send(self, &startFailed{err: fmt.Errorf("no answer from the registry: %w", context.DeadlineExceeded)})
			})
		}
		k.register(c)
	}
}

// leave is Stop: unregister (and wait for the registry's confirmation, from a Go
// registry), then wait for the methods that run, then stop.
func (k *core) leave(c actor.Context) {
	if k.phase == leaving || k.phase == stopped {
		return
	}
	if k.phase == registering {
		k.failStart(c, ErrStopped)
		return
	}
	k.phase = leaving
	k.stopChecks(c)
	k.reportCalls(c)
	id := k.unregister(c)
	if id == "" || !k.goRegistry || k.unserved {
		// A Python registry never answers an unregister, and none reads the queue of an
		// unserved component: nothing to wait for. (A registry that comes back with its
		// state and finds the unregister ignores it if the component registered again.)
		k.finishLeaving(c)
		return
	}
	k.leaveID = id
	k.internal[id] = unregistering
	self, sys := c.Self(), c.ActorSystem()
	k.leaveTmr = time.AfterFunc(unregisterWait, func() { sys.Root.Send(self, &leaveDeadline{}) })
}

// unregisterWait bounds how long Stop waits for the registry to confirm the unregister.
const unregisterWait = 2 * time.Second

// unregister sends the unregister message once and returns its id ("" when sent before).
func (k *core) unregister(c actor.Context) string {
	if k.unregistred || k.h.sid == "" {
		return ""
	}
	k.unregistred = true
	env := wire.Envelope{Sender: k.def.name, Reciever: wire.RegistryName, Message: wire.UnregisterMessage(), MessageID: wire.NewID()}
	body, err := env.Marshal()
	if err != nil {
		return ""
	}
	c.Send(k.bridge, &bridge.Publish{Queue: wire.SendQueue(k.h.sid), Body: body, Headers: wire.Headers{wire.InstanceHeader: k.instance}})
	return env.MessageID
}

// finishLeaving stops the actor once no method runs any more; served calls it again. Once
// the registry routes nothing new here, the methods that run are told (their context
// ends) and their answers still go out.
func (k *core) finishLeaving(c actor.Context) {
	if k.phase != leaving || k.leaveID != "" {
		return
	}
	k.cancelBase()
	if k.inflight > 0 {
		return
	}
	if k.leaveTmr != nil {
		k.leaveTmr.Stop()
	}
	c.Stop(c.Self())
}

// stopping runs whoever stops the actor (leave, or its supervisor when it gave up): the
// component leaves the registry if it has not, lets go of its queue (the bridge cancels
// the consumer once the answers it owes are settled; what waits in the queue is then the
// registry's to answer), and its workers end.
func (k *core) stopping(c actor.Context) {
	if k.phase == registering && k.startWaiter != nil {
		c.Send(k.startWaiter, &startResult{err: ErrStopped})
		k.startWaiter = nil
	}
	k.phase = stopped
	k.stopChecks(c)
	for _, t := range []*time.Timer{k.startTimer, k.leaveTmr, k.dir.timer} {
		if t != nil {
			t.Stop()
		}
	}
	k.unregister(c)
	if k.reg != nil {
		k.endRegistration(c)
	}
	if k.sub != 0 && !k.released {
		k.released = true
		c.Send(k.bridge, &bridge.Release{Sub: k.sub})
	}
	for id, w := range k.pending {
		c.Send(w.pid, &toCaller{id: id, msg: ErrStopped})
		delete(k.pending, id)
	}
	k.cancelBase()
	if !k.jobsDone {
		k.jobsDone = true
		close(k.jobs)
	}
}

// stoppedMsg ends the component: its workers end (they finish the method they run, whose
// context has ended; a method that ignores it is given up after workerGrace), its journal
// is written and closed, and Done is closed. This is the actor's last message: nothing
// else waits for its mailbox any more.
func (k *core) stoppedMsg(actor.Context) {
	h := k.h
	idle := make(chan struct{})
	go func() { k.workers.Wait(); close(idle) }()
	select {
	case <-idle:
	case <-time.After(workerGrace):
		k.log.Error("methods still run after the component stopped; given up", "component", k.def.name, "waited", workerGrace)
	}
	if err := k.journal.close(); err != nil {
		h.stopErr = fmt.Errorf("closing the dedupe journal: %w", err)
	}
	k.log.Info("component stopped", "component", k.def.name)
	h.callers.close()
	close(h.done)
}

// workerGrace bounds how long a stopped component waits for its methods to return.
const workerGrace = 5 * time.Second
