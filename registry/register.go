package registry

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/wire"
	"github.com/google/uuid"
)

// registerAnswerTTL bounds how long a registration answer waits in the registry's shared
// queue: one whose component died before reading it must not be handed to every later
// registrant forever (spec quirk 5).
const registerAnswerTTL = 30 * time.Second

// Registration answers are published again while the component's queue has no consumer:
// every at_queue version leaves the answers meant for others unacknowledged on the shared
// recieve-<registry> queue while it waits for its own, so components registering together
// can hold each other's answers for good (spec quirk 5). Each time, one copy goes to every
// consumer of that queue (RabbitMQ hands consecutive messages to its consumers in turn),
// so the one that waits for it gets one whoever holds the others.
const (
	// answerCheckEvery is how often pending registration answers are checked.
	answerCheckEvery = 250 * time.Millisecond
	// republishAfter is how long a component may take, after its answer was published,
	// to consume its queue before the answer is published again (and again as often).
	republishAfter = time.Second
	// copyTTL bounds the life of a copy in the shared queue.
	copyTTL = 5 * time.Second
)

// goRegistry marks the registration answers of this registry, so that a Go component
// knows its Go extensions (unregister, directory) will be answered; Python components
// read no header of an answer.
var goRegistry = wire.Headers{wire.RegistryHeader: "go"}

// pendingAnswer is a registration answer not known to have reached its component.
type pendingAnswer struct {
	body  []byte
	until time.Time // given up then: the first answer has expired
	next  time.Time // published again then, if its queue has no consumer yet
}

// regTick starts a check of the pending registration answers.
type regTick struct{}

// registrantsTag tags the probe that counts the consumers of recieve-<registry>.
type registrantsTag struct{}

// regProbe is a registration of a name that is already registered, waiting to learn
// whether the current owner is still alive.
type regProbe struct {
	env      *wire.Envelope
	d        *bridge.Delivery
	desc     Description
	instance string
	sid      string
}

// replyQueue is where a registration's answer goes: the registrant's own queue when it
// asked for that (wire.ReplyHeader: it consumes recieve-<uuid3 of its name> already),
// the shared recieve-<registry> otherwise.
func replyQueue(name string, d *bridge.Delivery) string {
	if onSession(d) {
		return wire.RecieveQueue(wire.SessionID(name))
	}
	return wire.RecieveQueue(wire.RegistrySession)
}

func onSession(d *bridge.Delivery) bool {
	if d == nil {
		return false
	}
	v, _ := d.Headers[wire.ReplyHeader].(string)
	return v == wire.ReplyOnSession
}

func (r *registryActor) register(c actor.Context, env *wire.Envelope, d *bridge.Delivery) {
	st := r.st
	reply := replyQueue(env.Sender, d)
	var p struct {
		Component json.RawMessage `json:"component"`
		SessionID json.RawMessage `json:"session_id"`
	}
	_ = wire.Unmarshal(env.Message, &p)
	if n := len(p.Component); n > st.cfg.limits.Description {
		st.cfg.log.Warn("refused a registration: description too large", "sender", env.Sender, "bytes", n)
		r.answer(c, reply, wire.RegistryName, env.Sender, env.MessageID, wire.ErrorsMessage(fmt.Sprintf(
			"The description of %s is %d bytes; this registry accepts at most %d (atq registry --max-description)",
			wire.PyString(env.Sender), n, st.cfg.limits.Description)), nil, d)
		return
	}
	desc, err := ParseDescription(p.Component)
	if err == nil {
		err = st.cfg.limits.check(desc)
	}
	if err != nil {
		st.cfg.log.Warn("refused a registration", "sender", env.Sender, "err", err)
		r.answer(c, reply, wire.RegistryName, env.Sender, env.MessageID, wire.ErrorsMessage(err.Error()), nil, d)
		return
	}
	reply = replyQueue(desc.Name, d)
	if desc.Name == wire.RegistryName {
		r.answer(c, reply, wire.RegistryName, env.Sender, env.MessageID,
			wire.ErrorsMessage(`The name "registry" is reserved`), nil, d)
		return
	}
	sid := wire.SessionID(desc.Name)
	var given string
	if len(p.SessionID) > 0 && json.Unmarshal(p.SessionID, &given) == nil && given != "" {
		u, err := uuid.Parse(given)
		if err != nil {
			r.answer(c, reply, wire.RegistryName, desc.Name, env.MessageID,
				wire.ErrorsMessage(fmt.Sprintf("session_id %q is not a UUID", given)), nil, d)
			return
		}
		sid = u.String()
	}
	instance, _ := d.Headers[InstanceHeader].(string)
	e := st.byName[desc.Name]
	if e != nil && e.ready && !st.noProbe && (instance == "" || instance != e.instance) {
		// Another process may own the name: ask whether its queue still has a consumer.
		c.Request(st.bridge, &bridge.Probe{Queue: wire.RecieveQueue(e.sid),
			Tag: &regProbe{env: env, d: d, desc: desc, instance: instance, sid: sid}})
		return
	}
	r.accept(c, e, sid, desc, instance, env, d)
}

// accept records a registration and answers it once the session's queue is consumed.
func (r *registryActor) accept(c actor.Context, e *entry, sid string, desc Description, instance string, env *wire.Envelope, d *bridge.Delivery) {
	st := r.st
	reply := replyQueue(desc.Name, d)
	if e != nil && e.sid != sid {
		st.cfg.log.Info("component moves to a new session", "component", desc.Name, "from", e.sid, "to", sid)
		if e.sub != 0 {
			c.Send(st.bridge, &bridge.Release{Sub: e.sub})
		}
		r.remove(c, e)
		e = nil
	}
	if other := st.bySid[sid]; e == nil && other != nil {
		r.answer(c, reply, wire.RegistryName, desc.Name, env.MessageID,
			wire.ErrorsMessage(fmt.Sprintf("session %s belongs to %q", sid, other.name)), nil, d)
		return
	}
	consume := false
	if e == nil {
		e = &entry{name: desc.Name, sid: sid}
		st.byName[e.name] = e
		st.bySid[sid] = e
		st.order = append(st.order, e.name)
		if l := st.lingering[sid]; l != nil { // back soon after leaving: its consumer still runs
			l.timer.Stop()
			delete(st.lingering, sid)
			e.sub, e.ready = l.sub, true
		} else {
			consume = true
		}
	} else if !e.ready && !e.opening { // it was found dead, and its consumer released
		consume = true
	}
	e.desc = desc.JSON
	e.setMethods(desc.JSON)
	e.instance = instance
	e.direct = onSession(d)
	e.line = nil
	e.lastAlive = time.Now()
	e.registeredAt = e.lastAlive
	// A Go registrant answered on its own queue consumes it already: no start grace.
	e.probed, e.seen = false, e.direct
	if consume { // after e.direct: a Go registrant's pair is declared already
		r.open(c, e)
	}
	r.persist()
	r.dirChanged(c, e.name, false)
	env.Reciever = desc.Name
	if !e.ready {
		e.waiting = append(e.waiting, regAnswer{env: env, d: d})
		return
	}
	r.registered(c, e, env, d)
}

// registered answers a registration. On the component's own queue (a Go registrant that
// consumes it already) that is all; on recieve-<registry> the answer is kept until the
// component consumes its queue, to publish it again if other registrants hold it.
func (r *registryActor) registered(c actor.Context, e *entry, req *wire.Envelope, d *bridge.Delivery) {
	st := r.st
	st.cfg.log.Info("registered", "component", e.name, "session", e.sid)
	body, err := answerBody(wire.RegistryName, e.name, req.MessageID, wire.Object{{Key: "session_id", Value: e.sid}})
	if err != nil {
		st.cfg.log.Error("cannot encode an answer", "err", err)
		c.Send(st.bridge, &bridge.Settle{D: d})
		return
	}
	own := onSession(d) && e.sid == wire.SessionID(e.name)
	queue := wire.RecieveQueue(wire.RegistrySession)
	if own {
		queue = wire.RecieveQueue(e.sid)
	}
	c.Send(st.bridge, &bridge.Publish{Queue: queue, Body: body, Headers: goRegistry, Settle: d, Expiration: registerAnswerTTL})
	if st.noProbe || own {
		return
	}
	now := time.Now()
	e.answer = &pendingAnswer{body: body, until: now.Add(registerAnswerTTL), next: now.Add(republishAfter)}
	r.armRegTimer(c)
}

func (r *registryActor) armRegTimer(c actor.Context) {
	st := r.st
	if st.regTimer != nil {
		return
	}
	self, sys := c.Self(), c.ActorSystem()
	st.regTimer = time.AfterFunc(answerCheckEvery, func() { sys.Root.Send(self, &regTick{}) })
}

// checkAnswers probes the queues of the components whose registration answer is pending,
// and counts the registrants; probed publishes the answers again where needed.
func (r *registryActor) checkAnswers(c actor.Context) {
	st := r.st
	now := time.Now()
	pending := false
	for _, n := range st.order {
		e := st.byName[n]
		if e.answer == nil {
			continue
		}
		if now.After(e.answer.until) {
			st.cfg.log.Warn("registered component never consumed its queue", "component", e.name, "waited", registerAnswerTTL)
			e.answer = nil
			continue
		}
		pending = true
		r.probe(c, e, now)
	}
	if pending {
		c.Request(st.bridge, &bridge.Probe{Queue: wire.RecieveQueue(wire.RegistrySession), Tag: registrantsTag{}})
		r.armRegTimer(c)
	}
}

// republish publishes e's registration answer again, once for every registrant waiting
// on the shared queue, when it is due.
func (r *registryActor) republish(c actor.Context, e *entry, now time.Time) {
	a := e.answer
	if a == nil || now.Before(a.next) {
		return
	}
	a.next = now.Add(republishAfter)
	copies := max(1, r.st.registrants)
	r.st.cfg.log.Info("registration answer published again: the component does not consume its queue yet",
		"component", e.name, "copies", copies)
	for range copies {
		c.Send(r.st.bridge, &bridge.Publish{Queue: wire.RecieveQueue(wire.RegistrySession), Body: a.body,
			Headers: goRegistry, Expiration: min(copyTTL, a.until.Sub(now))})
	}
}

// methodsOf is the set of methods a normalised description lists.
func methodsOf(desc json.RawMessage) map[string]struct{} {
	var d struct {
		Methods map[string]json.RawMessage `json:"methods"`
	}
	_ = wire.Unmarshal(desc, &d)
	set := make(map[string]struct{}, len(d.Methods))
	for m := range d.Methods {
		set[m] = struct{}{}
	}
	return set
}

func (e *entry) setMethods(desc json.RawMessage) {
	e.methodSet = methodsOf(desc)
	e.methods = len(e.methodSet)
}

// check refuses a description past the name and method limits.
func (l Limits) check(d Description) error {
	if n := utf8.RuneCountInString(d.Name); n > l.Name {
		return fmt.Errorf("%w: the name is %d characters long; this registry accepts at most %d (atq registry --max-name)", ErrBadDescription, n, l.Name)
	}
	if n := len(methodsOf(d.JSON)); n > l.Methods {
		return fmt.Errorf("%w: %s has %d methods; this registry accepts at most %d (atq registry --max-methods)", ErrBadDescription, wire.PyString(d.Name), n, l.Methods)
	}
	return nil
}
