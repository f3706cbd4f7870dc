package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/wire"
	"github.com/google/uuid"
)

// Ready asks the registry to answer (with *Ready) once it consumes its own queue.
type Ready struct{ Err error }

// Option configures the registry.
type Option func(*config)

type config struct {
	log       *slog.Logger
	maxBody   int
	prefetch  int
	stateFile string
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithMaxBody sets the largest body accepted (default wire.DefaultMaxBody).
func WithMaxBody(n int) Option { return func(c *config) { c.maxBody = n } }

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
}

// Props returns the props of a registry actor that talks through the bridge actor at
// bridgePID.
func Props(bridgePID *actor.PID, opts ...Option) *actor.Props {
	cfg := config{log: slog.New(slog.NewTextHandler(io.Discard, nil)), maxBody: wire.DefaultMaxBody}
	for _, o := range opts {
		o(&cfg)
	}
	st := &state{cfg: cfg, bridge: bridgePID, byName: map[string]*entry{}, bySid: map[string]*entry{}}
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
	case *bridge.Opened:
		sid := strings.TrimPrefix(m.Queue, "send-")
		r.opened(c, sid, m)
	case *bridge.Delivery:
		r.handle(c, m)
	case *Ready:
		if st.ownReady || st.readyErr != nil {
			c.Respond(&Ready{Err: st.readyErr})
		} else {
			st.waiters = append(st.waiters, c.Sender())
		}
	case *actor.Stopping:
		for _, e := range st.byName {
			if e.sub != nil {
				c.Send(st.bridge, &bridge.Release{Sub: e.sub})
			}
		}
		if st.own != nil {
			c.Send(st.bridge, &bridge.Release{Sub: st.own})
		}
	}
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
	c.Send(st.bridge, &bridge.Publish{Queue: wire.RecieveQueue(target.sid), Body: d.Body, Headers: d.Headers, Done: settle(d, st.cfg.log)})
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
	e := st.byName[desc.Name]
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
		r.open(c, sid)
	}
	e.desc = desc.JSON
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
	r.answer(c, wire.RecieveQueue(wire.RegistrySession), wire.RegistryName, e.name, req.MessageID,
		wire.Object{{Key: "session_id", Value: e.sid}}, nil, d)
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
			msg = inspection(e)
		}
		r.answer(c, reply, inspectSender, env.Sender, env.MessageID, msg, nil, d)
	case wire.TypeInspectAll:
		all := make(wire.Object, 0, len(st.order))
		for _, n := range st.order {
			all = append(all, wire.Field{Key: n, Value: inspection(st.byName[n])})
		}
		r.answer(c, reply, inspectSender, env.Sender, env.MessageID, all, nil, d)
	case wire.TypeUnregister:
		e := st.byName[env.Sender]
		if e != nil && (reply == wire.RecieveQueue(e.sid) || reply == wire.RecieveQueue(wire.RegistrySession)) {
			st.cfg.log.Info("unregistered", "component", e.name)
			if e.sub != nil {
				c.Send(st.bridge, &bridge.Release{Sub: e.sub})
			}
			r.remove(e)
		}
		r.answer(c, reply, wire.RegistryName, env.Sender, env.MessageID, wire.Object{{Key: "result", Value: e != nil}}, nil, d)
	default:
		r.answer(c, reply, wire.RegistryName, env.Sender, env.MessageID,
			wire.ErrorsMessage(fmt.Sprintf("Registry does not serve message type %s; it serves check_registered, inspect and inspect_all", wire.PyString(p.Type))), nil, d)
	}
}

func inspection(e *entry) wire.Object {
	return wire.Object{
		{Key: "broker", Value: wire.Object{{Key: "session_id", Value: e.sid}}},
		{Key: "component", Value: json.RawMessage(e.desc)},
	}
}

// answer publishes an answer envelope and settles d once the transport has it.
func (r *registryActor) answer(c actor.Context, queue, sender, reciever, answerTo string, msg any, h wire.Headers, d *bridge.Delivery) {
	payload, err := json.Marshal(msg)
	if err == nil {
		env := wire.Envelope{Sender: sender, Reciever: reciever, Message: payload, MessageID: wire.NewID(), AnswerTo: answerTo}
		var body []byte
		if body, err = env.Marshal(); err == nil {
			c.Send(r.st.bridge, &bridge.Publish{Queue: queue, Body: body, Headers: h, Done: settle(d, r.st.cfg.log)})
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
