package component

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/wire"
)

// Registration answers meant for other components are held, not given back at once, and
// released every holdFor: given back at once they come straight back (RabbitMQ requeues at
// the head) and a handful of stale answers would be all this registrant ever sees; held
// for good, they would starve the others, as at_queue's registrants starve each other.
const (
	holdFor = 100 * time.Millisecond
	// registrationPrefetch lets every message of the shared queue reach this registrant,
	// its own answer included, however many stale answers wait before it.
	registrationPrefetch = 1<<16 - 1
	// sharedAfter is how long a registrant waits for its answer on its own queue (where a
	// Go registry puts it) before it also reads the registry's shared queue (where
	// python -m at_queue puts it).
	sharedAfter = time.Second
)

// registration is one registration exchange of spec §5.1. A Go component consumes its own
// queue first (its session is uuid3 of its name, known in advance) and asks, with a
// header, to be answered there: a Go registry does so, and registrants then never meet on
// the shared recieve-<registry> queue. A registry that ignores the header (python -m
// at_queue) answers on the shared queue; after sharedAfter the registrant reads that too,
// taking only its own answer and giving every other delivery back within holdFor, so that
// components registering together do not hold each other's answers (spec quirk 5) and
// stale answers do not hide its own.
type registration struct {
	id     string       // the register request's message_id
	sub    bridge.SubID // its consumer of recieve-<registry>; 0 unless it reads it
	shared bool         // it reads (or is opening) the shared queue
	again  bool         // the request found no registry queue: publish it again once shared is open
	held   []*bridge.Delivery
	tick   *time.Timer
	late   *time.Timer // when to read the shared queue too
}

// Tags of what the actor asks the bridge for.
type (
	registryQueueTag struct{ id string }
	ownQueueTag      struct{}
	registerTag      struct{ id string }
	callTag          struct{ id string }
)

// Messages of the registration's timers.
type (
	holdTick   struct{ id string }
	sharedTick struct{ id string }
)

// register starts a registration exchange (the first, or again when the registry has
// forgotten the component): once the component consumes its own queue, the request goes.
func (k *core) register(c actor.Context) {
	if k.reg != nil {
		return
	}
	k.reg = &registration{id: wire.NewID()}
	k.internal[k.reg.id] = registerAnswer
	if k.sub == 0 {
		// Exclusive: RabbitMQ (or the embedded broker) lets one process hold the name's
		// queue, so a second instance of a live component is refused at once, whichever
		// language the first is written in, and answers never go to the wrong one.
		// Shared: the components of a process consume on a few shared channels, as the
		// registry consumes theirs. Opening a channel costs the broker a supervisor
		// and three processes; a host of 1,000 components registered 25% slower on a new
		// virtual host with a channel each.
		c.Request(k.bridge, &bridge.Open{Session: k.h.sid, Queue: wire.RecieveQueue(k.h.sid), Prefetch: k.def.prefetch,
			Exclusive: true, Shared: true, Tag: ownQueueTag{}})
		return
	}
	k.publishRegister(c)
}

func (k *core) opened(c actor.Context, m *bridge.Opened) {
	switch tag := m.Tag.(type) {
	case registryQueueTag:
		if k.reg == nil || k.reg.id != tag.id || k.phase == stopped {
			if m.Sub != 0 {
				c.Send(k.bridge, &bridge.Release{Sub: m.Sub})
			}
			return
		}
		if m.Err != nil {
			k.log.Warn("cannot read the registry's shared queue", "component", k.def.name, "err", m.Err)
			return
		}
		k.reg.sub = m.Sub
		k.armHold(c)
		if k.reg.again {
			k.reg.again = false
			k.publishRegister(c)
		}
	case ownQueueTag:
		if k.phase == stopped {
			if m.Sub != 0 {
				c.Send(k.bridge, &bridge.Release{Sub: m.Sub})
			}
			return
		}
		switch {
		case errors.Is(m.Err, bridge.ErrInUse):
			k.registrationFailed(c, fmt.Errorf("%s is already registered and alive: its queue %s has a consumer in another process; stop it first or choose another name (%w)",
				wire.PyString(k.def.name), wire.RecieveQueue(k.h.sid), m.Err))
			return
		case m.Err != nil:
			k.registrationFailed(c, fmt.Errorf("consuming the queue of %s: %w", k.def.name, m.Err))
			return
		}
		k.sub = m.Sub
		if k.reg != nil {
			k.publishRegister(c)
		}
	}
}

// publishRegister publishes the register request with the component's description, its
// instance, and the wish to be answered on its own queue.
func (k *core) publishRegister(c actor.Context) {
	msg, err := json.Marshal(wire.Object{{Key: "type", Value: wire.TypeRegister}, {Key: "component", Value: k.def.describe()}})
	if err == nil {
		env := wire.Envelope{Sender: k.def.name, Reciever: wire.RegistryName, Message: msg, MessageID: k.reg.id}
		var body []byte
		if body, err = env.Marshal(); err == nil {
			c.Send(k.bridge, &bridge.Publish{Queue: wire.SendQueue(wire.RegistrySession), Body: body,
				Headers: wire.Headers{wire.InstanceHeader: k.instance, wire.ReplyHeader: wire.ReplyOnSession},
				Notify:  c.Self(), ErrorsOnly: true, Tag: registerTag{id: k.reg.id}})
			if k.reg.late == nil {
				self, sys, id := c.Self(), c.ActorSystem(), k.reg.id
				k.reg.late = time.AfterFunc(sharedAfter, func() { sys.Root.Send(self, &sharedTick{id: id}) })
			}
			return
		}
	}
	k.registrationFailed(c, fmt.Errorf("%w: encoding the description: %v", ErrInvalidDefinition, err))
}

// readShared starts reading the registry's shared queue, for a registry that answers
// there (python -m at_queue).
func (k *core) readShared(c actor.Context, id string) {
	if k.reg == nil || k.reg.id != id || k.reg.shared {
		return
	}
	k.reg.shared = true
	c.Request(k.bridge, &bridge.Open{
		Session: wire.RegistrySession, Queue: wire.RecieveQueue(wire.RegistrySession),
		Prefetch: registrationPrefetch, Tag: registryQueueTag{id: id},
	})
}

func (k *core) armHold(c actor.Context) {
	self, sys, id := c.Self(), c.ActorSystem(), k.reg.id
	k.reg.tick = time.AfterFunc(holdFor, func() { sys.Root.Send(self, &holdTick{id: id}) })
}

// releaseHeld gives back what the registration holds, so that others can have it.
func (k *core) releaseHeld(c actor.Context) {
	if k.reg == nil {
		return
	}
	for _, d := range k.reg.held {
		c.Send(k.bridge, &bridge.Settle{D: d, Nack: true, Requeue: true})
	}
	k.reg.held = nil
	k.armHold(c)
}

// registryDelivery takes a delivery of the shared registry queue: its own answer, or
// something to hold for a moment.
func (k *core) registryDelivery(c actor.Context, d *bridge.Delivery) {
	env, err := wire.Decode(d.Body, k.def.maxBody)
	switch {
	case err != nil:
		k.log.Warn("dropped an unreadable message on the registry queue", "err", err)
		c.Send(k.bridge, &bridge.Settle{D: d})
	case k.reg == nil || k.reg.sub == 0 || d.Sub() != k.reg.sub:
		// A consumer being released still delivers: give it back.
		c.Send(k.bridge, &bridge.Settle{D: d, Nack: true, Requeue: true})
	case env.Reciever != k.def.name || env.AnswerTo != k.reg.id:
		k.reg.held = append(k.reg.held, d)
	default:
		c.Send(k.bridge, &bridge.Settle{D: d})
		_, goRegistry := d.Headers[wire.RegistryHeader]
		k.registered(c, env, goRegistry)
	}
}

// registered reads the registry's answer: the session to use, or why it refused.
func (k *core) registered(c actor.Context, env wire.Envelope, goRegistry bool) {
	k.endRegistration(c)
	k.unserved = false
	a, err := wire.DecodeAnswer(env.Message)
	if err == nil && a.HasErrors {
		err = fmt.Errorf("the registry refused: %s", wire.ErrorTexts(a.Errors))
	}
	var p struct {
		SessionID string `json:"session_id"`
	}
	if err == nil && (json.Unmarshal(env.Message, &p) != nil || p.SessionID == "") {
		err = fmt.Errorf("the answer has no session_id")
	}
	if err != nil {
		k.registrationFailed(c, err)
		return
	}
	k.goRegistry = goRegistry
	if !goRegistry { // no directory to follow: every call takes the registry's route
		k.dir.ready, k.dir.peers = false, nil
	}
	switch {
	case k.phase == registering:
		if p.SessionID != k.h.sid {
			k.log.Warn("the registry gave a session other than the name's; using it", "component", k.def.name, "session", p.SessionID)
		}
		k.phase = serving
		k.log.Info("component registered", "component", k.def.name, "session", k.h.sid)
		if k.startTimer != nil {
			k.startTimer.Stop()
		}
		if k.startWaiter != nil {
			c.Send(k.startWaiter, &startResult{})
			k.startWaiter = nil
		}
		k.scheduleCheck(c)
	case p.SessionID != k.h.sid:
		k.log.Error("the registry gave another session; keeping the old one", "component", k.def.name, "session", p.SessionID)
		k.scheduleCheck(c)
	default:
		k.log.Info("registered again", "component", k.def.name, "session", p.SessionID)
		k.scheduleCheck(c)
	}
}

// endRegistration releases the shared queue and what it held.
func (k *core) endRegistration(c actor.Context) {
	r := k.reg
	k.reg = nil
	delete(k.internal, r.id)
	for _, t := range []*time.Timer{r.tick, r.late} {
		if t != nil {
			t.Stop()
		}
	}
	for _, d := range r.held {
		c.Send(k.bridge, &bridge.Settle{D: d, Nack: true, Requeue: true})
	}
	if r.sub != 0 {
		c.Send(k.bridge, &bridge.Release{Sub: r.sub})
	}
}

// registrationFailed ends a registration that cannot succeed: the first fails Start, a
// later one is tried again at the next check.
func (k *core) registrationFailed(c actor.Context, err error) {
	if k.reg != nil {
		k.endRegistration(c)
	}
	if k.phase == registering {
		k.failStart(c, err)
		return
	}
	k.log.Error("registering again failed", "component", k.def.name, "err", err)
	k.scheduleCheck(c)
}

// failStart ends Start with err; the actor stops.
func (k *core) failStart(c actor.Context, err error) {
	if k.phase != registering {
		return
	}
	if k.startWaiter != nil {
		c.Send(k.startWaiter, &startResult{err: err})
		k.startWaiter = nil
	}
	c.Stop(c.Self())
}

// scheduleCheck arranges the next check that the registry still knows the component:
// with a pacer, the pacer sends checkDue when the process's rate allows, and a timer at
// backstopChecks times the interval is there in case it never does.
func (k *core) scheduleCheck(c actor.Context) {
	every := k.def.registryCheck
	if every <= 0 || k.phase != serving {
		return
	}
	if k.checkTmr != nil {
		k.checkTmr.Stop()
	}
	self, sys := c.Self(), c.ActorSystem()
	// ±20%: a thousand components that started together must not ask at the same moment.
	every = time.Duration(float64(every) * (0.8 + 0.4*rand.Float64()))
	backstop := every
	if k.pacer != nil {
		c.Send(k.pacer, &checkAt{pid: self, after: every})
		backstop *= backstopChecks
	}
	k.checkTmr = time.AfterFunc(backstop, func() { sys.Root.Send(self, &checkDue{}) })
}

// backstopChecks: a component whose pacer has not granted a check for this many
// intervals checks anyway (a pacer that restarted has lost its waiting list; one pacing
// more than rate × interval × backstopChecks components is too slow for them).
const backstopChecks = 8

// registerAgain registers the component again, the registry having forgotten it (or not
// answered), and tells the pacer: the other components of the process are checked at
// once.
func (k *core) registerAgain(c actor.Context, why string) {
	k.log.Warn(why, "component", k.def.name)
	if k.pacer != nil {
		c.Send(k.pacer, &checkAllNow{})
	}
	k.register(c)
}

// stopChecks ends the component's checks.
func (k *core) stopChecks(c actor.Context) {
	if k.checkTmr != nil {
		k.checkTmr.Stop()
	}
	if k.pacer != nil {
		c.Send(k.pacer, &checkOff{pid: c.Self()})
	}
}

// checkRegistry checks that the registry still knows this component. The registry
// consumes the send queue of every component it knows, so the check first counts that
// queue's consumers (one passive declare, answered by the broker alone); only when it has
// none (a registry restarted without its state, or none running), or the transport
// cannot count, is the registry asked (see askRegistry). A component that follows the
// directory always asks: the question also renews its subscription. Asking the registry
// every 15s from each of 1,000 components was a steady stream of routed messages that
// slowed every other routed call.
func (k *core) checkRegistry(c actor.Context) {
	if k.phase != serving || k.reg != nil {
		return
	}
	if k.dir.id != "" || k.checkNoProbe {
		k.askRegistry(c)
		return
	}
	if k.checkTmr != nil {
		k.checkTmr.Stop() // the backstop, when the pacer granted this check
	}
	k.checkSeq++
	k.checkProbing = true
	c.Request(k.bridge, &bridge.Probe{Queue: wire.SendQueue(k.h.sid), Tag: checkTag{seq: k.checkSeq}})
	self, sys, seq := c.Self(), c.ActorSystem(), k.checkSeq
	k.checkTmr = time.AfterFunc(k.def.registryCheck, func() { sys.Root.Send(self, &checkLate{seq: seq}) })
}

// checkTag tags the probe of a registry check: of the component's send queue, or then of
// the registry's own queue (registry).
type checkTag struct {
	seq      int
	registry bool
}

// checkProbed takes the count of the send queue's consumers: with one, the registry
// serves this component and the next check is scheduled. With none, no registry knows
// the component; the registry's own queue is counted next: a registry reads it, so it
// forgot this component (it restarted without its state), which registers again at
// once. Otherwise (none runs, or the transport cannot count) the registry is asked.
func (k *core) checkProbed(c actor.Context, m *bridge.Probed) {
	tag, ok := m.Tag.(checkTag)
	if !ok || !k.checkProbing || tag.seq != k.checkSeq {
		return
	}
	if k.phase != serving || k.reg != nil {
		k.endCheck()
		return
	}
	if errors.Is(m.Err, bridge.ErrUnsupported) {
		k.checkNoProbe = true
	}
	switch {
	case tag.registry && m.Err == nil && m.Consumers > 0:
		k.endCheck()
		k.registerAgain(c, "the registry does not know this component; registering again")
	case tag.registry:
		k.endCheck()
		k.askRegistry(c)
	case m.Err == nil && m.Consumers > 0:
		k.unserved = false
		k.endCheck()
		k.scheduleCheck(c)
	case m.Err == nil:
		// Every registry consumes the send queue of each component it knows.
		k.unserved = true
		c.Request(k.bridge, &bridge.Probe{Queue: wire.SendQueue(wire.RegistrySession), Tag: checkTag{seq: tag.seq, registry: true}})
	default:
		k.endCheck()
		k.askRegistry(c)
	}
}

// endCheck ends the probing of a check and its timer.
func (k *core) endCheck() {
	k.checkProbing = false
	if k.checkTmr != nil {
		k.checkTmr.Stop()
	}
}

// askRegistry asks the registry whether it still knows this component; when it does not
// (a registry restarted without its state), or does not answer within the check's
// interval (a registry that lost its directory does not consume this component's queue),
// the component registers again, on the same session.
func (k *core) askRegistry(c actor.Context) {
	msg, err := wire.Compact(wire.Object{{Key: "type", Value: wire.TypeCheckRegistered}, {Key: "component", Value: k.def.name}})
	if err != nil {
		return
	}
	env := wire.Envelope{Sender: k.def.name, Reciever: wire.RegistryName, MessageID: wire.NewID(), Message: msg}
	body, err := env.Marshal()
	if err != nil {
		return
	}
	k.internal[env.MessageID] = checkRegistration
	c.Send(k.bridge, &bridge.Publish{Queue: wire.SendQueue(k.h.sid), Body: body})
	k.renewDirectory(c)
	self, sys, id := c.Self(), c.ActorSystem(), env.MessageID
	k.checkTmr = time.AfterFunc(k.def.registryCheck, func() { sys.Root.Send(self, &checkTimeout{id: id}) })
}

// internalAnswer takes the answer to a request the actor made for itself.
func (k *core) internalAnswer(c actor.Context, kind internalKind, env wire.Envelope, headers wire.Headers) {
	switch kind {
	case checkRegistration:
		if k.checkTmr != nil {
			k.checkTmr.Stop()
		}
		a, err := wire.DecodeAnswer(env.Message)
		var ok bool
		if err == nil {
			_ = json.Unmarshal(a.Result, &ok)
		}
		if ok {
			k.scheduleCheck(c)
			return
		}
		k.registerAgain(c, "the registry does not know this component; registering again")
	case unregistering:
		k.leaveID = ""
		k.finishLeaving(c)
	case registerAnswer: // answered on its own queue: only a Go registry does that
		if k.reg != nil && k.reg.id == env.AnswerTo {
			_, goRegistry := headers[wire.RegistryHeader]
			k.registered(c, env, goRegistry)
		}
	}
}
