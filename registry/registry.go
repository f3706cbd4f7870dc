package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/metrics"
	"github.com/at-technology/atqueue/wire"
)

// InstanceHeader is wire.InstanceHeader: a registration of a name whose current owner is
// alive is refused unless it comes from the same instance.
const InstanceHeader = wire.InstanceHeader

// Option configures the registry.
type Option func(*config)

type config struct {
	log          *slog.Logger
	maxBody      int
	prefetch     int
	stateFile    string
	probeEvery   time.Duration
	probeRate    int  // background probes per second at most
	confirmed    bool // route with publisher confirms instead of forwarding (WithConfirmedRouting)
	deadAfter    time.Duration
	startGrace   time.Duration
	standby      bool
	standbyEvery time.Duration
	limits       Limits
	forgetAfter  time.Duration
	linger       time.Duration
	metrics      *metrics.Metrics
}

// Limits bound what a component may register: every inspect_all answers every
// description, and the state file holds them all, so one huge description costs every
// caller of inspect_all and every write of the file. A registration past a limit is
// refused with an error answer that names the limit. Zero fields take the defaults.
type Limits struct {
	Description int // bytes of message.component as sent (default 1 MiB)
	Name        int // characters of a component's name (default 256)
	Methods     int // methods in one description (default 1024)
}

// DefaultLimits are the limits applied when none is set.
var DefaultLimits = Limits{Description: 1 << 20, Name: 256, Methods: 1024}

// WithLimits sets the registration limits (zero fields: DefaultLimits').
func WithLimits(l Limits) Option {
	return func(c *config) {
		if l.Description > 0 {
			c.limits.Description = l.Description
		}
		if l.Name > 0 {
			c.limits.Name = l.Name
		}
		if l.Methods > 0 {
			c.limits.Methods = l.Methods
		}
	}
}

// WithForgetDead makes the registry forget a component that has been dead for d (it is
// removed from the directory, and its queues are deleted when they are empty and nothing
// consumes them). Default 0: never, as Python's registry lists every component that ever
// registered; a Python component that comes back registers again anyway.
func WithForgetDead(d time.Duration) Option { return func(c *config) { c.forgetAfter = d } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithMaxBody sets the largest body accepted (default wire.DefaultMaxBody).
func WithMaxBody(n int) Option { return func(c *config) { c.maxBody = n } }

// WithLiveness sets how often the registry checks that each component consumes its
// queue, and how long a component may have no consumer before it is reported not alive
// (inspect answers carry "alive": false in the broker object), calls to it fail at once
// and the requests waiting in its queue are answered with the same error. Defaults: every
// 1s, dead after 2s, so a component killed outright is found within about 2s; every = 0
// turns the checks off. It needs a transport that can count consumers (bridge.Prober).
func WithLiveness(every, deadAfter time.Duration) Option {
	return func(c *config) { c.probeEvery, c.deadAfter = every, deadAfter }
}

// DefaultProbeRate is the default of WithProbeRate.
const DefaultProbeRate = 20

// WithProbeRate bounds the liveness probes sent per second in the background (default
// DefaultProbeRate; each is a passive queue declare, which costs the broker about as
// much as a message). Up to probeEvery × rate components, each is probed every
// probeEvery; with more, the round stretches: with 1,000 components and the defaults, a
// component that dies while nobody calls it is found within about 50s. A component that
// is called is probed at once when its last probe is older than probeEvery (a request
// routed to it, or a direct call to it that its caller reports), so its callers still
// learn of its death within about deadAfter. Probing every component every second cost
// 1,000 passive declares a second with 1,000 components, which doubled the p99 latency of
// every routed call; 200 a second still made a routed call 1.3–1.7× slower at p50 with
// 1,000 components than with 10, and slowed the broker for everyone on it.
func WithProbeRate(perSecond int) Option { return func(c *config) { c.probeRate = perSecond } }

// WithConfirmedRouting makes the registry route each message with a publisher confirm,
// acknowledging the message it routes once the broker has confirmed the copy, as every
// publish of the registry's own is. By default the registry forwards instead
// (bridge.Publish.Forward): it publishes the copy on the channel the message came
// through and acknowledges the message right after it, which RabbitMQ handles in that
// order. Both deliver each message at least once; forwarding saves a confirm on each of
// the two routed hops of a call (docs/call-path.md has the figures).
func WithConfirmedRouting(confirmed bool) Option { return func(c *config) { c.confirmed = confirmed } }

// WithStartGrace sets how long a registered component may take to start consuming its
// queue before it is reported not alive (default 30s). A Python component consumes only
// once its start() is called, which may come a while after it registered.
func WithStartGrace(d time.Duration) Option { return func(c *config) { c.startGrace = d } }

// WithPrefetch bounds the unacknowledged deliveries per consumed queue.
func WithPrefetch(n int) Option { return func(c *config) { c.prefetch = n } }

// WithStandby makes a registry that finds its queue held by another registry (a Go one,
// or python -m at_queue) wait and try again every retry, instead of failing, and take
// over once the other one is gone. Without it such a registry refuses to start.
func WithStandby(retry time.Duration) Option {
	return func(c *config) { c.standby, c.standbyEvery = true, retry }
}

// Validate reports an option value that cannot work.
func (c *config) validate() error {
	switch {
	case c.probeEvery < 0:
		return fmt.Errorf("liveness check interval %v is negative", c.probeEvery)
	case c.probeRate <= 0:
		return fmt.Errorf("probe rate %d is not positive", c.probeRate)
	case c.deadAfter < 0:
		return fmt.Errorf("dead-after %v is negative", c.deadAfter)
	case c.startGrace < 0:
		return fmt.Errorf("start grace %v is negative", c.startGrace)
	case c.standby && c.standbyEvery <= 0:
		return fmt.Errorf("standby retry %v must be positive", c.standbyEvery)
	case c.prefetch < 0:
		return fmt.Errorf("prefetch %d is negative", c.prefetch)
	case c.forgetAfter < 0:
		return fmt.Errorf("forget-dead-after %v is negative", c.forgetAfter)
	case c.linger < 0:
		return fmt.Errorf("linger %v is negative", c.linger)
	}
	return nil
}

type entry struct {
	name    string
	sid     string
	desc    json.RawMessage
	sub     bridge.SubID // 0 while its send queue is not consumed
	ready   bool
	opening bool // an Open of its send queue is on its way
	// waiting registrations, answered when the session's consumer is attached
	waiting []regAnswer

	instance     string    // the registering process's instance id (Go components send one)
	direct       bool      // it takes direct calls (a Go component that registered on its own queue)
	registeredAt time.Time // when it registered, or was restored from the state file
	methods      int       // how many methods its description lists
	methodSet    map[string]struct{}
	lastAlive    time.Time // last time its queue had a consumer (or its registration)
	consumers    int
	probed       bool
	probing      bool      // a probe is on its way: do not pile up more while the broker is away
	probeSent    time.Time // when the last probe was sent
	line         []byte    // its line of the state file (see savedEntry); nil: to encode
	seen         bool      // its queue has had a consumer since it registered
	draining     bool      // a Drain of its queue is on its way

	answer *pendingAnswer // its registration answer, until its queue has a consumer
}

// dead tells whether the component has had no consumer for longer than deadAfter, or,
// never seen consuming since it registered, for longer than startGrace.
func (e *entry) dead(now time.Time, cfg *config) bool {
	if !e.probed || e.consumers > 0 || cfg.deadAfter <= 0 {
		return false
	}
	if e.seen {
		return now.Sub(e.lastAlive) >= cfg.deadAfter
	}
	return now.Sub(e.lastAlive) >= max(cfg.startGrace, cfg.deadAfter)
}

type regAnswer struct {
	env *wire.Envelope
	d   *bridge.Delivery
}

// state outlives restarts of the actor: the directory must not be lost when the actor
// is restarted by its supervisor.
type state struct {
	cfg    config
	bridge *actor.PID
	self   *actor.PID // the registry actor, for its timers
	sys    *actor.ActorSystem
	byName map[string]*entry
	bySid  map[string]*entry
	order  []string

	own      bridge.SubID
	opening  bool  // the own queue's Open is on its way
	active   bool  // consuming the own queue: this registry serves the virtual host
	standing bool  // another registry holds the own queue; trying again (standby)
	readyErr error // why the registry cannot serve (without standby)
	waiters  []readyWaiter

	store     *store // the state file's reader and writer; nil without one
	restoring bool   // a load of the state file is on its way
	// held are the deliveries that came before the registry served with its saved
	// directory back: the consumers of a registry that stopped may still hand over what
	// they took (a restarted registry has the same PID), and a request routed before its
	// target is restored would be answered "not registered yet", a directory request with
	// an empty directory.
	held   []*bridge.Delivery
	saving bool // the store writes a snapshot; the next waits for its *stateSaved
	dirty  bool // the directory changed since the last snapshot

	ticker     *time.Timer // the next slice of a round of liveness probes
	probeNext  int         // where in order the next slice starts
	probeSlice int         // slices probed in the current round
	// probeCredit is how many background probes the rate allows now (see nextProbes).
	probeCredit float64
	regTimer    *time.Timer // runs while registration answers are pending
	retryTimer  *time.Timer // a standby's next try
	noProbe     bool        // the transport cannot count consumers
	// registrants is the last count of consumers of the registry's recieve queue: the
	// components waiting for a registration answer there.
	registrants int
	// lingering keeps consuming the send queue of a component that unregistered, by
	// session, so that the answers it still sends reach their callers.
	lingering map[string]*linger

	flights  map[string]*flight // requests routed, by message id (see calls.go)
	watchers []*actor.PID       // in-process watchers of the calls
	remote   map[string]remoteWatcher

	dirWatchers map[string]dirWatcher // components following the directory, by name
	dirDirty    map[string]struct{}   // names changed since the last change message
	dirTimer    *time.Timer           // runs while changes wait to be sent
	dirForce    bool                  // the next flush is sent even without changes (reporting flipped)
	reporting   bool                  // what the followers were last told: reports of direct calls wanted
}

// linger is the consumer of an unregistered component's send queue, kept for a while
// (WithLinger).
// Meanwhile the registry answers the requests left in the component's recieve queue once
// nothing consumes it any more (the component has released it).
type linger struct {
	name     string
	sub      bridge.SubID
	probing  bool
	draining bool
	timer    *time.Timer
}

// lingerEnd releases a lingering consumer once its time is up.
type lingerEnd struct {
	sid string
	l   *linger
}

// WithLinger sets how long the registry still routes what a component that unregistered
// sends (default 30s): a component that leaves answers the requests routed to it before
// its unregister (the methods still running), and those answers must not be stranded in
// a queue nobody reads. Meanwhile the registry answers the requests left in its queue;
// afterwards it deletes its queues, when they are empty and nobody consumes them.
func WithLinger(d time.Duration) Option { return func(c *config) { c.linger = d } }

// Props returns the props of a registry actor that talks through the bridge actor at
// bridgePID. Options with impossible values (see WithLiveness) make the registry fail
// to start: its Ready answer carries the error.
func Props(bridgePID *actor.PID, opts ...Option) *actor.Props {
	cfg := config{log: slog.New(slog.NewTextHandler(io.Discard, nil)), maxBody: wire.DefaultMaxBody,
		probeEvery: time.Second, probeRate: DefaultProbeRate, deadAfter: 2 * time.Second, startGrace: 30 * time.Second, limits: DefaultLimits,
		linger: 30 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	st := &state{cfg: cfg, bridge: bridgePID, byName: map[string]*entry{}, bySid: map[string]*entry{}, lingering: map[string]*linger{},
		flights: map[string]*flight{}, remote: map[string]remoteWatcher{},
		dirWatchers: map[string]dirWatcher{}, dirDirty: map[string]struct{}{}}
	if err := cfg.validate(); err != nil {
		st.readyErr = err
	}
	return actor.PropsFromProducer(func() actor.Actor { return &registryActor{st: st} })
}

type registryActor struct{ st *state }

func (r *registryActor) Receive(c actor.Context) {
	st := r.st
	switch m := c.Message().(type) {
	case *actor.Started:
		st.self, st.sys = c.Self(), c.ActorSystem()
		if st.readyErr == nil && !st.active && !st.opening {
			r.openOwn(c)
		}
		r.schedule(c)
	case *tick:
		r.probeSlice(c)
		r.schedule(c)
	case *regTick:
		st.regTimer = nil
		r.checkAnswers(c)
	case *dirFlush:
		r.flushDirectory(c)
	case *stateSaved:
		st.saving = false
		if st.dirty {
			r.persist()
		}
	case *retryOwn:
		if !st.active && !st.opening {
			r.openOwn(c)
		}
	case *bridge.Probed:
		r.probed(c, m)
	case *bridge.Drained:
		r.drained(c, m)
	case *bridge.Opened:
		if sid, _, _ := wire.ParseQueue(m.Queue); sid == wire.RegistrySession {
			r.openedOwn(c, m)
		} else {
			r.opened(c, sid, m)
		}
	case *bridge.Lost:
		if sid, _, _ := wire.ParseQueue(m.Queue); sid == wire.RegistrySession {
			r.lostOwn(c, m.Err)
		} else {
			r.lostSub(c, sid, m.Err)
		}
	case *bridge.Published:
		if u, ok := m.Tag.(*unroutable); ok && errors.Is(m.Err, bridge.ErrNoQueue) {
			r.unroutable(c, u)
		}
	case *bridge.Returned:
		r.returned(c, m)
	case *bridge.Delivery:
		if !st.active || st.restoring {
			st.held = append(st.held, m)
			return
		}
		r.handle(c, m)
	case *lingerEnd:
		if st.lingering[m.sid] == m.l {
			delete(st.lingering, m.sid)
			c.Send(st.bridge, &bridge.Release{Sub: m.l.sub})
			if st.bySid[m.sid] == nil { // it has not come back: its queues go, if empty
				c.Request(st.bridge, &bridge.DeleteSession{Session: m.sid, Tag: m.l.name})
			}
		}
	case *bridge.Deleted:
		if m.Err != nil {
			st.cfg.log.Info("left the queues of a component that left: not empty, or in use", "component", m.Tag, "err", m.Err)
		} else {
			st.cfg.log.Info("deleted the queues of a component that left", "component", m.Tag, "session", m.Session)
		}
	case *stateLoaded:
		r.restored(c, m)
	case *Watch:
		st.watchers = append(st.watchers, c.Sender())
		r.observersChanged(c)
	case *Unwatch:
		st.watchers = slices.DeleteFunc(st.watchers, c.Sender().Equal)
		r.observersChanged(c)
	case *Ready:
		r.ready(c, false)
	case *AwaitActive:
		r.ready(c, true)
	case *actor.Stopping:
		for _, t := range []*time.Timer{st.ticker, st.regTimer, st.retryTimer, st.dirTimer} {
			if t != nil {
				t.Stop()
			}
		}
		if st.dirty { // the change waiting is written before the store closes
			st.saving = false
			r.persist()
		}
		r.releaseAll(c)
	case *actor.Stopped:
		if st.store != nil { // its last write is done before the registry is gone
			st.store.close()
			st.store = nil
		}
	}
}

// releaseAll lets go of every queue the registry consumes.
func (r *registryActor) releaseAll(c actor.Context) {
	st := r.st
	for _, e := range st.byName {
		if e.sub != 0 {
			c.Send(st.bridge, &bridge.Release{Sub: e.sub})
			e.sub, e.ready = 0, false
		}
	}
	for sid, l := range st.lingering {
		l.timer.Stop()
		c.Send(st.bridge, &bridge.Release{Sub: l.sub})
		delete(st.lingering, sid)
	}
	if st.own != 0 {
		c.Send(st.bridge, &bridge.Release{Sub: st.own})
		st.own = 0
	}
}

// keepRouting lets the consumer of e's send queue run for lingerFor after e left.
func (r *registryActor) keepRouting(c actor.Context, e *entry) {
	if e.sub == 0 {
		return
	}
	self, sys := c.Self(), c.ActorSystem()
	l := &linger{name: e.name, sub: e.sub}
	l.timer = time.AfterFunc(r.st.cfg.linger, func() { sys.Root.Send(self, &lingerEnd{sid: e.sid, l: l}) })
	r.st.lingering[e.sid] = l
	e.sub = 0
}

// open consumes a component's send queue as its only consumer, so that no second
// registry (or python -m at_queue broker) splits its traffic.
func (r *registryActor) open(c actor.Context, e *entry) {
	e.opening = true
	c.Request(r.st.bridge, &bridge.Open{
		Session:   e.sid,
		Queue:     wire.SendQueue(e.sid),
		Prefetch:  r.st.cfg.prefetch,
		Exclusive: true,
		// A Go component that registered on its own queue has declared its pair.
		Declared: e.direct,
		// One channel for all of them: a channel per component slowed every message on
		// the registry's connection with 1,000 components.
		Shared: true,
	})
}

// close stops consuming a component's send queue (it is dead, or gone).
func (r *registryActor) close(c actor.Context, e *entry) {
	if e.sub != 0 {
		c.Send(r.st.bridge, &bridge.Release{Sub: e.sub})
	}
	e.sub, e.ready = 0, false
}

func (r *registryActor) opened(c actor.Context, sid string, m *bridge.Opened) {
	st := r.st
	e := st.bySid[sid]
	if e != nil {
		e.opening = false
	}
	if e == nil || e.ready || !st.active {
		// The name moved elsewhere meanwhile, a second open raced, or the registry no
		// longer serves: keep no consumer it does not need.
		if m.Sub != 0 {
			c.Send(st.bridge, &bridge.Release{Sub: m.Sub})
		}
		return
	}
	if m.Err != nil {
		st.cfg.log.Error("cannot consume component queue", "component", e.name, "err", m.Err)
		for _, w := range e.waiting {
			r.answer(c, replyQueue(e.name, w.d), w.env.Sender, e.name, w.env.MessageID,
				wire.ErrorsMessage(fmt.Sprintf("Registry could not open the session of %q: %v", e.name, m.Err)), nil, w.d)
		}
		r.remove(c, e)
		return
	}
	e.sub, e.ready = m.Sub, true
	for _, w := range e.waiting {
		r.registered(c, e, w.env, w.d)
	}
	e.waiting = nil
}

func (r *registryActor) lostSub(c actor.Context, sid string, err error) {
	st := r.st
	e := st.bySid[sid]
	if e == nil || !st.active {
		return
	}
	st.cfg.log.Error("another consumer took a component's send queue; its messages are no longer routed here",
		"component", e.name, "err", err)
	e.sub, e.ready = 0, false
}

func (r *registryActor) handle(c actor.Context, d *bridge.Delivery) {
	st := r.st
	env, err := wire.Decode(d.Body, st.cfg.maxBody)
	sid, _, _ := wire.ParseQueue(d.Queue)
	replyQueue := wire.RecieveQueue(sid)
	if err != nil {
		if env.Sender == "" || env.MessageID == "" {
			st.cfg.log.Warn("dropped a message with no identifiable sender", "queue", d.Queue, "err", err)
			c.Send(st.bridge, &bridge.Settle{D: d})
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
		text := wire.NotRegisteredYet(env.Reciever)
		if !env.IsAnswer() {
			r.answeredHere(c, &env, nil, wire.KindUnknownComponent, text)
		}
		r.answer(c, replyQueue, wire.RegistryName, env.Sender, env.MessageID, wire.ErrorsMessage(text), nil, d)
		return
	}
	if !env.IsAnswer() {
		now := time.Now()
		if target.dead(now, &st.cfg) {
			// Found dead by a probe that may be a round old: a component that consumes
			// again is found alive by the next request's probe, not a round later.
			r.probeStale(c, target, now)
			msg := notAlive(target, now)
			r.answeredHere(c, &env, target, wire.KindNotAlive, wire.NotAliveFor(target.name, now.Sub(target.lastAlive)))
			r.answer(c, replyQueue, wire.RegistryName, env.Sender, env.MessageID, msg, nil, d)
			return
		}
		r.probeStale(c, target, now)
	}
	queue := wire.RecieveQueue(target.sid)
	p := &bridge.Publish{Queue: queue, Body: d.Body, Headers: d.Headers, Settle: d, Forward: !st.cfg.confirmed}
	if env.IsAnswer() {
		r.routedAnswer(c, &env)
	} else {
		r.routedRequest(&env, target)
		// A request routed to a queue that no longer exists is answered by the registry.
		p.Notify, p.ErrorsOnly, p.Tag = c.Self(), true, &unroutable{reply: replyQueue, env: env, queue: queue}
	}
	c.Send(st.bridge, p)
}

// notAlive is the answer to a request for a component found dead.
func notAlive(e *entry, now time.Time) wire.Object {
	return wire.ErrorsMessage(wire.NotAliveFor(e.name, now.Sub(e.lastAlive)))
}

// unroutable is a request the registry routed to a queue that does not exist (deleted
// behind the registry's back, its component gone): the sender is told at once.
type unroutable struct {
	reply, queue string
	env          wire.Envelope
}

func (r *registryActor) unroutable(c actor.Context, m *unroutable) {
	r.st.cfg.log.Warn("routed a request to a queue that does not exist", "component", m.env.Reciever, "queue", m.queue, "sender", m.env.Sender)
	text := wire.NotAliveNoQueue(m.env.Reciever, m.queue)
	r.answeredHere(c, &m.env, r.st.byName[m.env.Reciever], wire.KindNotAlive, text)
	r.answer(c, m.reply, wire.RegistryName, m.env.Sender, m.env.MessageID, wire.ErrorsMessage(text), nil, nil)
}

// returned takes a message the registry forwarded to a queue that does not exist: a
// request is answered as unroutable answers a confirmed one. The broker does not say
// which session sent it, so the answer goes to the component its sender names.
func (r *registryActor) returned(c actor.Context, m *bridge.Returned) {
	st := r.st
	env, err := wire.Decode(m.Body, st.cfg.maxBody)
	if err != nil || env.IsAnswer() {
		// An answer (the registry's, or that of a component of its process, which
		// forwards its answers too) whose caller's queue is gone: nobody waits for it.
		st.cfg.log.Info("a forwarded answer came back and was dropped: its queue does not exist", "queue", m.Queue, "reciever", env.Reciever)
		return
	}
	sender := st.byName[env.Sender]
	if sender == nil {
		st.cfg.log.Warn("routed a request to a queue that does not exist; its sender is gone too", "component", env.Reciever, "queue", m.Queue, "sender", env.Sender)
		return
	}
	r.unroutable(c, &unroutable{reply: wire.RecieveQueue(sender.sid), env: env, queue: m.Queue})
}

// handleOwn serves the registry's own queue: inspect and inspect_all (and, as a Go
// extension, check_registered and unregister) are answered with sender "registry";
// everything else is a registration.
func (r *registryActor) handleOwn(c actor.Context, env *wire.Envelope, d *bridge.Delivery) {
	reply := wire.RecieveQueue(wire.RegistrySession)
	switch wire.PeekType(env.Message) {
	case wire.TypeInspect, wire.TypeInspectAll, wire.TypeCheckRegistered, wire.TypeUnregister, wire.TypeDirectory:
		r.service(c, env, reply, wire.RegistryName, d)
	default:
		r.register(c, env, d)
	}
}

// restore asks for the saved directory; restored takes it.
func (r *registryActor) restore(c actor.Context) {
	st := r.st
	if st.cfg.stateFile == "" {
		return
	}
	if st.store == nil {
		st.store = newStore(st.cfg.stateFile, c.ActorSystem().Root, c.Self(), st.cfg.log)
	}
	st.restoring = true
	st.store.requestLoad()
}

// restored reopens every component of the saved directory that did not register again
// meanwhile, writes the directory as it is now, and tells who waits that the registry
// serves.
func (r *registryActor) restored(c actor.Context, m *stateLoaded) {
	st := r.st
	st.restoring = false
	defer r.handleHeld(c)
	defer r.notify(c)
	defer r.persist()
	saved, err := m.entries, m.err
	if err != nil {
		st.cfg.log.Error("cannot read the saved directory; starting empty", "err", err)
		return
	}
	if !st.active {
		return
	}
	now := time.Now()
	for _, s := range saved {
		if st.byName[s.Name] != nil || st.bySid[s.SessionID] != nil {
			continue
		}
		e := &entry{name: s.Name, sid: s.SessionID, desc: s.Description, direct: s.Direct, lastAlive: now, registeredAt: now}
		e.setMethods(s.Description)
		st.byName[e.name], st.bySid[e.sid] = e, e
		st.order = append(st.order, e.name)
		r.open(c, e)
	}
	if len(saved) > 0 {
		st.cfg.log.Info("directory restored", "components", len(saved), "file", st.cfg.stateFile)
	}
}

// handleHeld handles the deliveries held while the directory was restored.
func (r *registryActor) handleHeld(c actor.Context) {
	if !r.st.active || r.st.restoring {
		return
	}
	held := r.st.held
	r.st.held = nil
	for _, d := range held {
		r.handle(c, d)
	}
}

// persist hands a snapshot of the directory to the state file's writer, when a state
// file is kept. While the writer is busy with the previous snapshot, the change is only
// noted, and the snapshot is taken when that write is done (*stateSaved): the first
// change after a quiet spell is written at once, and a burst of registrations makes one
// snapshot per write instead of one per change (each holds the whole directory).
func (r *registryActor) persist() {
	st := r.st
	if st.store == nil || !st.active || st.restoring {
		return
	}
	if st.saving {
		st.dirty = true
		return
	}
	st.dirty, st.saving = false, true
	out := make([]savedEntry, 0, len(st.order))
	for _, n := range st.order {
		e := st.byName[n]
		if e.line == nil {
			e.line = appendEntry(nil, savedEntry{Name: e.name, SessionID: e.sid, Description: e.desc, Direct: e.direct})
		}
		out = append(out, savedEntry{line: e.line})
	}
	st.store.save(out)
}

func (r *registryActor) remove(c actor.Context, e *entry) {
	st := r.st
	defer r.persist()
	delete(st.byName, e.name)
	delete(st.bySid, e.sid)
	delete(st.remote, e.name)
	delete(st.dirWatchers, e.name)
	st.cfg.metrics.Forget(e.name)
	for i, n := range st.order {
		if n == e.name {
			st.order = append(st.order[:i:i], st.order[i+1:]...)
			break
		}
	}
	r.dirChanged(c, e.name, true)
	r.observersChanged(c)
}

// answer publishes an answer envelope; the bridge settles d once the transport has it.
func (r *registryActor) answer(c actor.Context, queue, sender, reciever, answerTo string, msg any, h wire.Headers, d *bridge.Delivery) {
	body, err := answerBody(sender, reciever, answerTo, msg)
	if err != nil {
		r.st.cfg.log.Error("cannot encode an answer", "err", err)
		if d != nil {
			c.Send(r.st.bridge, &bridge.Settle{D: d})
		}
		return
	}
	c.Send(r.st.bridge, &bridge.Publish{Queue: queue, Body: body, Headers: h, Settle: d})
}

// answerBody is the envelope of an answer, with a fresh message id.
func answerBody(sender, reciever, answerTo string, msg any) ([]byte, error) {
	payload, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	env := wire.Envelope{Sender: sender, Reciever: reciever, Message: payload, MessageID: wire.NewID(), AnswerTo: answerTo}
	return env.Marshal()
}
