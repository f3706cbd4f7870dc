package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/at-technology/atqueue/supervision"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/wire"
	"github.com/google/uuid"
)

// InstanceHeader is the AMQP header in which a Go component names the process instance
// that registers (a header, so that the register body stays what Python sends). A
// registration of a name whose current owner is alive is refused unless it comes from
// the same instance.
const InstanceHeader = "atq_instance"

// Ready asks the registry to answer (with *Ready) once it consumes its own queue.
type Ready struct{ Err error }

// Option configures the registry.
type Option func(*config)

type config struct {
	log        *slog.Logger
	maxBody    int
	prefetch   int
	stateFile  string
	probeEvery time.Duration
	deadAfter  time.Duration
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithMaxBody sets the largest body accepted (default wire.DefaultMaxBody).
func WithMaxBody(n int) Option { return func(c *config) { c.maxBody = n } }

// WithLiveness sets how often the registry checks that each component consumes its
// queue, and how long a component may have no consumer before it is reported not alive
// (inspect answers carry "alive" in the broker object) and calls to it fail at once
// instead of waiting for their deadline. Defaults: every 2s, dead after 30s; every = 0
// turns the checks off. It needs a transport that can count consumers (bridge.Prober).
func WithLiveness(every, deadAfter time.Duration) Option {
	return func(c *config) { c.probeEvery, c.deadAfter = every, deadAfter }
}

// WithPrefetch bounds the unacknowledged deliveries per consumed queue.
func WithPrefetch(n int) Option { return func(c *config) { c.prefetch = n } }

type entry struct {
	name  string
	sid   string
	desc  json.RawMessage
	sub   bridge.Subscription
	ready bool
	// waiting registrations, answered when the session's consumer is attached
	waiting []regAnswer

	instance  string    // the registering process's instance id (Go components send one)
	lastAlive time.Time // last time its queue had a consumer (or its registration)
	consumers int
	probed    bool
	probing   bool // a probe is on its way: do not pile up more while the broker is away
}

// dead tells whether the component has had no consumer for longer than deadAfter.
func (e *entry) dead(now time.Time, deadAfter time.Duration) bool {
	return e.probed && e.consumers == 0 && deadAfter > 0 && now.Sub(e.lastAlive) > deadAfter
}

type regAnswer struct {
	env *wire.Envelope
	d   *bridge.Delivery
}

// state outlives restarts of the actor: the directory must not be lost when the actor
// is restarted by its supervisor.
type state struct {
	cfg      config
	bridge   *actor.PID
	byName   map[string]*entry
	bySid    map[string]*entry
	order    []string
	own      bridge.Subscription
	ownReady bool
	readyErr error
	waiters  []*actor.PID
	ticker   *time.Timer
	noProbe  bool // the transport cannot count consumers
	// lingering keeps consuming the send queue of a component that unregistered, by
	// session, so that the answers it still sends reach their callers.
	lingering map[string]*linger
}

// linger is the consumer of an unregistered component's send queue, kept for lingerFor.
type linger struct {
	sub   bridge.Subscription
	timer *time.Timer
}

// lingerEnd releases a lingering consumer once its time is up.
type lingerEnd struct {
	sid string
	l   *linger
}

// lingerFor is how long the registry still routes what an unregistered component sends:
// a component that leaves answers the requests routed to it before its unregister (the
// methods still running, the requests it refuses), and those answers must not be
// stranded in a queue nobody reads.
const lingerFor = 30 * time.Second

// tick starts a round of liveness probes.
type tick struct{}

// regProbe is a registration of a name that is already registered, waiting to learn
// whether the current owner is still alive.
type regProbe struct {
	env      *wire.Envelope
	d        *bridge.Delivery
	desc     Description
	instance string
	sid      string
}

// Props returns the props of a registry actor that talks through the bridge actor at
// bridgePID.
func Props(bridgePID *actor.PID, opts ...Option) *actor.Props {
	cfg := config{log: slog.New(slog.NewTextHandler(io.Discard, nil)), maxBody: wire.DefaultMaxBody,
		probeEvery: 2 * time.Second, deadAfter: 30 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	st := &state{cfg: cfg, bridge: bridgePID, byName: map[string]*entry{}, bySid: map[string]*entry{}, lingering: map[string]*linger{}}
	return actor.PropsFromProducer(func() actor.Actor { return &registryActor{st: st} })
}

type registryActor struct{ st *state }

func (r *registryActor) Receive(c actor.Context) {
	st := r.st
	switch m := c.Message().(type) {
	case *actor.Started:
		if st.own == nil {
			r.restore(c)
			r.open(c, wire.RegistrySession)
		}
		r.schedule(c)
	case *supervision.InjectedFailure:
		panic(m)
	case *tick:
		r.probeAll(c)
		r.schedule(c)
	case *bridge.Probed:
		r.probed(c, m)
	case *bridge.Opened:
		sid := strings.TrimPrefix(m.Queue, "send-")
		r.opened(c, sid, m)
	case *bridge.Delivery:
		r.handle(c, m)
	case *unroutable:
		r.unroutable(c, m)
	case *lingerEnd:
		if st.lingering[m.sid] == m.l {
			delete(st.lingering, m.sid)
			c.Send(st.bridge, &bridge.Release{Sub: m.l.sub})
		}
	case *Ready:
		if st.ownReady || st.readyErr != nil {
			c.Respond(&Ready{Err: st.readyErr})
		} else {
			st.waiters = append(st.waiters, c.Sender())
		}
	case *actor.Stopping:
		if st.ticker != nil {
			st.ticker.Stop()
		}
		for _, e := range st.byName {
			if e.sub != nil {
				c.Send(st.bridge, &bridge.Release{Sub: e.sub})
			}
		}
		for sid, l := range st.lingering {
			l.timer.Stop()
			c.Send(st.bridge, &bridge.Release{Sub: l.sub})
			delete(st.lingering, sid)
		}
		if st.own != nil {
			c.Send(st.bridge, &bridge.Release{Sub: st.own})
		}
	}
}

// keepRouting lets the consumer of e's send queue run for lingerFor after e left.
func (r *registryActor) keepRouting(c actor.Context, e *entry) {
	if e.sub == nil {
		return
	}
	self, sys := c.Self(), c.ActorSystem()
	l := &linger{sub: e.sub}
	l.timer = time.AfterFunc(lingerFor, func() { sys.Root.Send(self, &lingerEnd{sid: e.sid, l: l}) })
	r.st.lingering[e.sid] = l
	e.sub = nil
}

func (r *registryActor) open(c actor.Context, sid string) {
	self := c.Self()
	sys := c.ActorSystem()
	c.Request(r.st.bridge, &bridge.Open{
		Session:  sid,
		Queue:    wire.SendQueue(sid),
		Prefetch: r.st.cfg.prefetch,
		Deliver:  func(d *bridge.Delivery) { sys.Root.Send(self, d) },
	})
}

func (r *registryActor) opened(c actor.Context, sid string, m *bridge.Opened) {
	st := r.st
	if sid == wire.RegistrySession {
		st.own, st.readyErr = m.Sub, m.Err
		st.ownReady = m.Err == nil
		if m.Err != nil {
			st.cfg.log.Error("registry cannot consume its own queue", "err", m.Err)
		} else {
			st.cfg.log.Info("registry listening", "queue", m.Queue)
		}
		for _, w := range st.waiters {
			c.Send(w, &Ready{Err: st.readyErr})
		}
		st.waiters = nil
		return
	}
	e := st.bySid[sid]
	if e == nil || e.ready {
		// The name moved elsewhere meanwhile, or a second open raced: keep one consumer.
		if m.Sub != nil {
			c.Send(st.bridge, &bridge.Release{Sub: m.Sub})
		}
		return
	}
	if m.Err != nil {
		st.cfg.log.Error("cannot consume component queue", "component", e.name, "err", m.Err)
		for _, w := range e.waiting {
			r.answer(c, wire.RecieveQueue(wire.RegistrySession), w.env.Sender, e.name, w.env.MessageID,
				wire.ErrorsMessage(fmt.Sprintf("Registry could not open the session of %q: %v", e.name, m.Err)), nil, w.d)
		}
		r.remove(e)
		return
	}
	e.sub, e.ready = m.Sub, true
	for _, w := range e.waiting {
		r.registered(c, e, w.env, w.d)
	}
	e.waiting = nil
}

func (r *registryActor) handle(c actor.Context, d *bridge.Delivery) {
	st := r.st
	env, err := wire.Decode(d.Body, st.cfg.maxBody)
	sid := strings.TrimPrefix(d.Queue, "send-")
	replyQueue := wire.RecieveQueue(sid)
	if err != nil {
		if env.Sender == "" || env.MessageID == "" {
			st.cfg.log.Warn("dropped a message with no identifiable sender", "queue", d.Queue, "err", err)
			_ = d.Ack()
			return
		}
		r.answer(c, replyQueue, wire.RegistryName, env.Sender, env.MessageID,
			wire.ErrorsMessage(fmt.Sprintf("Registry could not read the message: %v", err)), nil, d)
		return
	}
	if sid == wire.RegistrySession {
		r.handleOwn(c, &env, d)
		return
	}
	if e := st.bySid[sid]; e != nil && env.Sender != e.name {
		st.cfg.log.Warn("sender differs from the session's component", "sender", env.Sender, "component", e.name)
	}
	if env.Reciever == wire.RegistryName {
		r.service(c, &env, replyQueue, env.Sender, d)
		return
	}
	target := st.byName[env.Reciever]
	if target == nil {
		r.answer(c, replyQueue, wire.RegistryName, env.Sender, env.MessageID,
			wire.ErrorsMessage(fmt.Sprintf("Component %s is not registered yet", wire.PyString(env.Reciever))), nil, d)
		return
	}
	if now := time.Now(); !env.IsAnswer() && target.dead(now, st.cfg.deadAfter) {
		r.answer(c, replyQueue, wire.RegistryName, env.Sender, env.MessageID,
			wire.ErrorsMessage(fmt.Sprintf("Component %s is registered but not alive: nothing has consumed its queue for %s",
				wire.PyString(env.Reciever), now.Sub(target.lastAlive).Round(time.Second))), nil, d)
		return
	}
	queue := wire.RecieveQueue(target.sid)
	done := settle(d, st.cfg.log)
	if !env.IsAnswer() {
		self, root, settled := c.Self(), c.ActorSystem().Root, done
		done = func(err error) {
			if errors.Is(err, bridge.ErrNoQueue) { // answered by the actor, which settles d
				root.Send(self, &unroutable{d: d, reply: replyQueue, env: env, queue: queue})
				return
			}
			settled(err)
		}
	}
	c.Send(st.bridge, &bridge.Publish{Queue: queue, Body: d.Body, Headers: d.Headers, Done: done})
}

// unroutable is a request the registry routed to a queue that does not exist (deleted
// behind the registry's back, its component gone): the sender is told at once.
type unroutable struct {
	d            *bridge.Delivery
	reply, queue string
	env          wire.Envelope
}

func (r *registryActor) unroutable(c actor.Context, m *unroutable) {
	r.st.cfg.log.Warn("routed a request to a queue that does not exist", "component", m.env.Reciever, "queue", m.queue, "sender", m.env.Sender)
	r.answer(c, m.reply, wire.RegistryName, m.env.Sender, m.env.MessageID,
		wire.ErrorsMessage(fmt.Sprintf("Component %s is registered but not alive: its queue %s does not exist",
			wire.PyString(m.env.Reciever), m.queue)), nil, m.d)
}

// handleOwn serves the registry's own queue: inspect and inspect_all (and, as a Go
// extension, check_registered and unregister) are answered with sender "registry";
// everything else is a registration.
func (r *registryActor) handleOwn(c actor.Context, env *wire.Envelope, d *bridge.Delivery) {
	reply := wire.RecieveQueue(wire.RegistrySession)
	switch wire.PeekType(env.Message) {
	case wire.TypeInspect, wire.TypeInspectAll, wire.TypeCheckRegistered, wire.TypeUnregister:
		r.service(c, env, reply, wire.RegistryName, d)
	default:
		r.register(c, env, d)
	}
}

func (r *registryActor) register(c actor.Context, env *wire.Envelope, d *bridge.Delivery) {
	st := r.st
	reply := wire.RecieveQueue(wire.RegistrySession)
	var p struct {
		Component json.RawMessage `json:"component"`
		SessionID json.RawMessage `json:"session_id"`
	}
	_ = json.Unmarshal(env.Message, &p)
	desc, err := ParseDescription(p.Component)
	if err != nil {
		st.cfg.log.Warn("refused a registration", "sender", env.Sender, "err", err)
		r.answer(c, reply, wire.RegistryName, env.Sender, env.MessageID, wire.ErrorsMessage(err.Error()), nil, d)
		return
	}
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
	reply := wire.RecieveQueue(wire.RegistrySession)
	if e != nil && e.sid != sid {
		st.cfg.log.Info("component moves to a new session", "component", desc.Name, "from", e.sid, "to", sid)
		if e.sub != nil {
			c.Send(st.bridge, &bridge.Release{Sub: e.sub})
		}
		r.remove(e)
		e = nil
	}
	if other := st.bySid[sid]; e == nil && other != nil {
		r.answer(c, reply, wire.RegistryName, desc.Name, env.MessageID,
			wire.ErrorsMessage(fmt.Sprintf("session %s belongs to %q", sid, other.name)), nil, d)
		return
	}
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
			r.open(c, sid)
		}
	}
	e.desc = desc.JSON
	e.instance = instance
	e.lastAlive = time.Now()
	e.probed = false
	r.persist()
	env.Reciever = desc.Name
	if !e.ready {
		e.waiting = append(e.waiting, regAnswer{env: env, d: d})
		return
	}
	r.registered(c, e, env, d)
}

func (r *registryActor) registered(c actor.Context, e *entry, req *wire.Envelope, d *bridge.Delivery) {
	r.st.cfg.log.Info("registered", "component", e.name, "session", e.sid)
	r.answerTTL(c, wire.RecieveQueue(wire.RegistrySession), wire.RegistryName, e.name, req.MessageID,
		wire.Object{{Key: "session_id", Value: e.sid}}, nil, d, registerAnswerTTL)
}

// restore loads the saved directory and reopens every known component's queue.
func (r *registryActor) restore(c actor.Context) {
	st := r.st
	if st.cfg.stateFile == "" {
		return
	}
	saved, err := loadState(st.cfg.stateFile)
	if err != nil {
		st.cfg.log.Error("cannot read the saved directory; starting empty", "err", err)
		return
	}
	for _, s := range saved {
		if st.byName[s.Name] != nil || st.bySid[s.SessionID] != nil {
			continue
		}
		e := &entry{name: s.Name, sid: s.SessionID, desc: s.Description}
		st.byName[e.name], st.bySid[e.sid] = e, e
		st.order = append(st.order, e.name)
		r.open(c, e.sid)
	}
	if len(saved) > 0 {
		st.cfg.log.Info("directory restored", "components", len(saved), "file", st.cfg.stateFile)
	}
}

// persist writes the directory when a state file is configured.
func (r *registryActor) persist() {
	st := r.st
	if st.cfg.stateFile == "" {
		return
	}
	out := make([]savedEntry, 0, len(st.order))
	for _, n := range st.order {
		e := st.byName[n]
		out = append(out, savedEntry{Name: e.name, SessionID: e.sid, Description: e.desc})
	}
	if err := saveState(st.cfg.stateFile, out); err != nil {
		st.cfg.log.Error("cannot save the directory", "file", st.cfg.stateFile, "err", err)
	}
}

func (r *registryActor) remove(e *entry) {
	st := r.st
	defer r.persist()
	delete(st.byName, e.name)
	delete(st.bySid, e.sid)
	for i, n := range st.order {
		if n == e.name {
			st.order = append(st.order[:i:i], st.order[i+1:]...)
			break
		}
	}
}

// service answers a request addressed to "registry". sender is the answer's sender:
// "registry" on the registry's own queue; through a broker, inspect answers carry the
// asking component's name (spec quirk 11).
func (r *registryActor) service(c actor.Context, env *wire.Envelope, reply, inspectSender string, d *bridge.Delivery) {
	st := r.st
	var p struct {
		Type      string          `json:"type"`
		Component json.RawMessage `json:"component"`
	}
	_ = json.Unmarshal(env.Message, &p)
	var name string
	hasName := len(p.Component) > 0 && p.Component[0] == '"' && json.Unmarshal(p.Component, &name) == nil
	switch p.Type {
	case wire.TypeCheckRegistered:
		_, ok := st.byName[name]
		r.answer(c, reply, wire.RegistryName, env.Sender, env.MessageID, wire.Object{{Key: "result", Value: hasName && ok}}, nil, d)
	case wire.TypeInspect:
		var msg any
		switch e := st.byName[name]; {
		case !hasName:
			msg = wire.ErrorsMessage(`Field "component" (str) is required`)
		case e == nil:
			msg = wire.ErrorsMessage(fmt.Sprintf("Component %s is not registered", wire.PyString(name)))
		default:
			msg = r.inspection(e)
		}
		r.answer(c, reply, inspectSender, env.Sender, env.MessageID, msg, nil, d)
	case wire.TypeInspectAll:
		all := make(wire.Object, 0, len(st.order))
		for _, n := range st.order {
			all = append(all, wire.Field{Key: n, Value: r.inspection(st.byName[n])})
		}
		r.answer(c, reply, inspectSender, env.Sender, env.MessageID, all, nil, d)
	case wire.TypeUnregister:
		e := st.byName[env.Sender]
		// Only the registration it belongs to is removed: an unregister that waited in the
		// queue while no registry ran must not remove a later registration of the name.
		inst, _ := d.Headers[InstanceHeader].(string)
		// Settled before the consumer is released: releasing requeues what is unacked,
		// and this request must not come back to unregister a later registration.
		_ = d.Ack()
		r.answer(c, reply, wire.RegistryName, env.Sender, env.MessageID, wire.Object{{Key: "result", Value: e != nil && inst == e.instance}}, nil, nil)
		if e != nil && inst == e.instance && (reply == wire.RecieveQueue(e.sid) || reply == wire.RecieveQueue(wire.RegistrySession)) {
			st.cfg.log.Info("unregistered", "component", e.name)
			r.keepRouting(c, e)
			r.remove(e)
		}
	default:
		r.answer(c, reply, wire.RegistryName, env.Sender, env.MessageID,
			wire.ErrorsMessage(fmt.Sprintf("Registry does not serve message type %s; it serves check_registered, inspect and inspect_all", wire.PyString(p.Type))), nil, d)
	}
}

// inspection is a directory record as inspect answers show it. For a component known to
// be dead the broker object also carries "alive": false (Python readers take only
// session_id from it); for a live one it is exactly Python's {"session_id"}.
func (r *registryActor) inspection(e *entry) wire.Object {
	broker := wire.Object{{Key: "session_id", Value: e.sid}}
	if e.dead(time.Now(), r.st.cfg.deadAfter) {
		broker = append(broker, wire.Field{Key: "alive", Value: false})
	}
	return wire.Object{
		{Key: "broker", Value: broker},
		{Key: "component", Value: json.RawMessage(e.desc)},
	}
}

func (r *registryActor) schedule(c actor.Context) {
	st := r.st
	if st.cfg.probeEvery <= 0 || st.noProbe {
		return
	}
	self, sys := c.Self(), c.ActorSystem()
	if st.ticker != nil {
		st.ticker.Stop()
	}
	st.ticker = time.AfterFunc(st.cfg.probeEvery, func() { sys.Root.Send(self, &tick{}) })
}

func (r *registryActor) probeAll(c actor.Context) {
	for _, n := range r.st.order {
		if e := r.st.byName[n]; e.ready && !e.probing {
			e.probing = true
			c.Request(r.st.bridge, &bridge.Probe{Queue: wire.RecieveQueue(e.sid), Tag: e.sid})
		}
	}
}

func (r *registryActor) probed(c actor.Context, m *bridge.Probed) {
	st := r.st
	if errors.Is(m.Err, bridge.ErrUnsupported) {
		st.noProbe = true
	}
	switch tag := m.Tag.(type) {
	case string:
		e := st.bySid[tag]
		if e == nil {
			return
		}
		e.probing = false
		if m.Err != nil {
			return
		}
		e.probed, e.consumers = true, m.Consumers
		if m.Consumers > 0 {
			e.lastAlive = time.Now()
		}
	case *regProbe:
		e := st.byName[tag.desc.Name]
		if m.Err == nil && m.Consumers > 0 && e != nil {
			st.cfg.log.Warn("refused a registration of a name owned by a live component", "component", tag.desc.Name)
			r.answer(c, wire.RecieveQueue(wire.RegistrySession), wire.RegistryName, tag.desc.Name, tag.env.MessageID,
				wire.ErrorsMessage(fmt.Sprintf("Component %s is already registered and alive (its queue %s has a consumer); stop it first or choose another name",
					wire.PyString(tag.desc.Name), wire.RecieveQueue(e.sid))), nil, tag.d)
			return
		}
		r.accept(c, e, tag.sid, tag.desc, tag.instance, tag.env, tag.d)
	}
}

// registerAnswerTTL bounds how long a registration answer waits in the registry's shared
// queue: one whose component died before reading it must not be handed to every later
// registrant forever (spec quirk 5).
const registerAnswerTTL = 30 * time.Second

// answer publishes an answer envelope and settles d once the transport has it.
func (r *registryActor) answer(c actor.Context, queue, sender, reciever, answerTo string, msg any, h wire.Headers, d *bridge.Delivery) {
	r.answerTTL(c, queue, sender, reciever, answerTo, msg, h, d, 0)
}

func (r *registryActor) answerTTL(c actor.Context, queue, sender, reciever, answerTo string, msg any, h wire.Headers, d *bridge.Delivery, ttl time.Duration) {
	payload, err := json.Marshal(msg)
	if err == nil {
		env := wire.Envelope{Sender: sender, Reciever: reciever, Message: payload, MessageID: wire.NewID(), AnswerTo: answerTo}
		var body []byte
		if body, err = env.Marshal(); err == nil {
			c.Send(r.st.bridge, &bridge.Publish{Queue: queue, Body: body, Headers: h, Done: settle(d, r.st.cfg.log), Expiration: ttl})
			return
		}
	}
	r.st.cfg.log.Error("cannot encode an answer", "err", err)
	if d != nil {
		_ = d.Ack()
	}
}

// settle acknowledges d when what it caused was accepted; a publish that failed for want
// of a connection requeues d so that it is handled again.
func settle(d *bridge.Delivery, log *slog.Logger) func(error) {
	if d == nil {
		return nil
	}
	return func(err error) {
		switch {
		case err == nil:
			_ = d.Ack()
		case errors.Is(err, bridge.ErrConnectionLost):
			_ = d.Nack(true)
		default:
			log.Warn("publish failed; message dropped", "queue", d.Queue, "err", err)
			_ = d.Ack()
		}
	}
}
