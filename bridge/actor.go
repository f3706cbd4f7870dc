package bridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/metrics"
	"github.com/at-technology/atqueue/supervision"
	"github.com/at-technology/atqueue/wire"
)

// Option configures the bridge actor.
type Option func(*config)

type config struct {
	metrics     *metrics.Metrics
	log         *slog.Logger
	redial      supervision.Backoff
	holdFor     time.Duration
	releaseWait time.Duration
}

// WithLogger sets where the bridge reports its connection's events (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

// WithMetrics counts the connection's restorations in m.
func WithMetrics(m *metrics.Metrics) Option { return func(c *config) { c.metrics = m } }

// WithRedial sets the backoff between attempts to connect again after the bridge
// restarted and its first attempt failed (default 100ms to 5s).
func WithRedial(b supervision.Backoff) Option { return func(c *config) { c.redial = b } }

// WithHoldFor bounds how long a Publish may wait for a connection the bridge does not
// have yet (after a restart) before it fails with ErrConnectionLost (default 30s).
func WithHoldFor(d time.Duration) Option { return func(c *config) { c.holdFor = d } }

// releaseWait bounds how long a Release waits for the settlements owed for its consumer.
const releaseWait = 10 * time.Second

// Props returns the props of a bridge actor that connects to b when it starts, closes its
// connection when it stops, and, restarted by its supervisor, connects again and resumes
// every consumer and session it had. The actor owns its connection and every goroutine
// that works on it; its mailbox never waits on the network.
func Props(b Broker, opts ...Option) *actor.Props {
	cfg := config{
		log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		redial:      supervision.Backoff{Initial: 100 * time.Millisecond, Max: 5 * time.Second, Multiplier: 2, Jitter: 0.5},
		holdFor:     30 * time.Second,
		releaseWait: releaseWait,
	}
	for _, o := range opts {
		o(&cfg)
	}
	st := &state{cfg: cfg, broker: b, subs: map[SubID]*sub{}, releasing: map[string][]chan struct{}{}}
	return actor.PropsFromProducer(func() actor.Actor { return &bridgeActor{st: st} })
}

// state outlives restarts of the actor: what the bridge owns (its consumers, the sessions
// it declared) must be re-established on the next connection.
type state struct {
	cfg    config
	broker Broker

	t          Transport // the current connection; nil while connecting
	tGen       uint64    // counts connections, so that a late report of an old one is ignored
	connecting bool
	attempts   int
	dialErr    error // the last failed attempt, until one succeeds
	everUp     bool
	up         bool // the connection's link is up (always, for transports without LinkNotifier)
	linkErr    error

	held      []*Publish // publishes waiting for a connection, oldest first
	heldSince []time.Time

	subs      map[SubID]*sub
	nextSub   SubID
	sessions  []string // declared, in order
	releasing map[string][]chan struct{}

	watchers []*actor.PID
	// forwarders are the actors that forwarded with Notify set (Publish.Forward): each is
	// sent the messages the broker returns. The bridge watches them, and forgets each
	// when it stops (a registry restarted in the process is a new actor).
	forwarders []*actor.PID
	connWait   []*actor.PID
	redialing  *time.Timer
	holdTimer  *time.Timer

	settler *settler
	spare   *outcome        // for the next send
	ctx     context.Context // of the current incarnation; cancelled when it stops
	cancel  context.CancelFunc
	wg      sync.WaitGroup // every goroutine the bridge owns but the settler
}

// sub is a consumer the bridge opened for an owner.
type sub struct {
	id        SubID
	owner     *actor.PID
	queue     string
	session   string
	prefetch  int
	exclusive bool
	declared  bool         // the session's queues exist already (Open.Declared)
	shared    bool         // on a shared channel, if the transport can (Open.Shared)
	gen       uint64       // the connection ts belongs to
	ts        Subscription // on the current connection; nil until bound
	owed      int          // deliveries whose Publish.Settle is still in flight
	release   bool         // Release asked: cancel once owed is 0
	deadline  *time.Timer  // bounds the wait for owed

	// An Open that came while the bridge had no connection is answered once bound.
	pendingReply    *actor.PID
	pendingTag      any
	pendingDeadline time.Time
}

type bridgeActor struct{ st *state }

// Messages the bridge sends itself from the goroutines it owns.
type (
	dialed struct {
		gen uint64
		t   Transport
		err error
	}
	redial    struct{}
	linkEvent struct {
		gen    uint64
		up     bool
		reason error
	}
	bound struct { // a consumer opened on connection gen
		id    SubID
		queue string
		gen   uint64
		ts    Subscription
		err   error
		reply *actor.PID // the Open's asker, nil when resumed after a reconnect
		tag   any
	}
	published struct {
		m   *Publish
		err error
	}
	lost struct {
		id  SubID
		gen uint64
		err error
	}
	released struct {
		queue string
		done  chan struct{}
	}
	releaseTimeout struct{ id SubID }
	returnedMsg    struct{ r *Returned }
	forwardRefused struct{ p *Publish } // the settler could not forward p now
	expireHeld     struct{}
)

func (b *bridgeActor) Receive(c actor.Context) {
	st := b.st
	switch m := c.Message().(type) {
	case *actor.Started:
		if st.settler == nil {
			self, sys := c.Self(), c.ActorSystem()
			st.settler = newSettler(func(p *Publish) { sys.Root.Send(self, &forwardRefused{p: p}) })
		}
		st.ctx, st.cancel = context.WithCancel(context.Background())
		b.dial(c)
	case *actor.Restarting:
		b.disconnect(c, false)
		st.cancel()
	case *actor.Stopping:
		b.disconnect(c, true)
	case *dialed:
		b.dialedMsg(c, m)
	case *redial:
		st.redialing = nil
		b.dial(c)
	case *linkEvent:
		b.link(c, m)
	case *Publish:
		b.publish(c, m)
	case *published:
		b.publishedMsg(c, m)
	case *forwardRefused:
		p := *m.p
		p.Forward = false
		b.publish(c, &p)
	case *returnedMsg:
		for _, f := range st.forwarders {
			c.Send(f, m.r)
		}
		if len(st.forwarders) == 0 {
			st.cfg.log.Info("the broker returned a forwarded message: its queue does not exist", "queue", m.r.Queue)
		}
	case *expireHeld:
		st.holdTimer = nil
		b.expire(c)
	case *Settle:
		b.settle(m.D, m.Nack, m.Requeue)
	case *Open:
		b.open(c, m)
	case *bound:
		b.boundMsg(c, m)
	case *lost:
		b.lostMsg(c, m)
	case *Release:
		b.release(c, m.Sub)
	case *releaseTimeout:
		if s := st.subs[m.id]; s != nil && s.release {
			st.cfg.log.Warn("released a consumer before its deliveries were settled", "queue", s.queue, "owed", s.owed)
			s.owed = 0
			b.cancelSub(c, s)
		}
	case *released:
		st.releasing[m.queue] = slices.DeleteFunc(st.releasing[m.queue], func(d chan struct{}) bool { return d == m.done })
		if len(st.releasing[m.queue]) == 0 {
			delete(st.releasing, m.queue)
		}
	case *Probe:
		b.probe(c, m)
	case *Drain:
		b.drain(c, m)
	case *DeleteSession:
		b.deleteSession(c, m)
	case *actor.Terminated:
		st.forwarders = slices.DeleteFunc(st.forwarders, m.Who.Equal)
		st.watchers = slices.DeleteFunc(st.watchers, m.Who.Equal)
	case *Watch:
		if w := c.Sender(); w != nil {
			st.watchers = append(st.watchers, w)
			c.Watch(w)
		}
		c.Respond(&Link{Up: st.t != nil && st.up, Err: st.linkErr})
	case *Connected:
		switch {
		case st.t != nil:
			c.Respond(&Link{Up: st.up, Err: st.linkErr})
		case !st.everUp && st.dialErr != nil:
			c.Respond(&Link{Err: st.dialErr})
		default:
			st.connWait = append(st.connWait, c.Sender())
		}
	}
}

// dial connects on a goroutine of its own; the answer comes back as *dialed.
func (b *bridgeActor) dial(c actor.Context) {
	st := b.st
	if st.connecting || st.t != nil {
		return
	}
	st.connecting = true
	st.tGen++
	gen, ctx, self, sys := st.tGen, st.ctx, c.Self(), c.ActorSystem()
	before := slices.Clone(st.releasingAll())
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		for _, done := range before { // the previous connection is being closed
			select {
			case <-done:
			case <-ctx.Done():
			}
		}
		t, err := st.broker.Connect(ctx)
		sys.Root.Send(self, &dialed{gen: gen, t: t, err: err})
	}()
}

// releasingAll is every pending release and close.
func (st *state) releasingAll() []chan struct{} {
	var all []chan struct{}
	for _, chs := range st.releasing {
		all = append(all, chs...)
	}
	return all
}

func (b *bridgeActor) dialedMsg(c actor.Context, m *dialed) {
	st := b.st
	if m.gen != st.tGen || st.ctx.Err() != nil {
		if m.t != nil {
			b.closeAsync(c, m.t)
		}
		return
	}
	st.connecting = false
	if m.err != nil {
		st.attempts++
		st.dialErr = m.err
		if !st.everUp {
			// The first connection: whoever waits learns why; the System fails to start.
			for _, w := range st.connWait {
				c.Send(w, &Link{Err: m.err})
			}
			st.connWait = nil
			return
		}
		delay := st.cfg.redial.Delay(st.attempts)
		st.cfg.log.Warn("bridge cannot connect again", "attempt", st.attempts, "retry", delay, "err", m.err)
		self, sys := c.Self(), c.ActorSystem()
		st.redialing = time.AfterFunc(delay, func() { sys.Root.Send(self, &redial{}) })
		return
	}
	st.t, st.attempts, st.dialErr, st.up, st.linkErr = m.t, 0, nil, true, nil
	if ln, ok := m.t.(LinkNotifier); ok {
		self, sys, gen := c.Self(), c.ActorSystem(), m.gen
		ln.NotifyLink(func(up bool, reason error) {
			sys.Root.Send(self, &linkEvent{gen: gen, up: up, reason: reason})
		})
	}
	if rn, ok := m.t.(ReturnNotifier); ok {
		self, sys := c.Self(), c.ActorSystem()
		rn.NotifyReturn(func(queue string, msg Message) {
			sys.Root.Send(self, &returnedMsg{r: &Returned{Queue: queue, Body: msg.Body, Headers: msg.Headers}})
		})
	}
	if st.everUp {
		st.cfg.log.Info("bridge connected again; resuming its consumers", "consumers", len(st.subs))
	}
	st.everUp = true
	for _, w := range st.connWait {
		c.Send(w, &Link{Up: true})
	}
	st.connWait = nil
	b.notifyWatchers(c)
	// What the previous connection had: its sessions, then its consumers.
	for _, sid := range st.sessions {
		b.declare(c, sid)
	}
	for _, s := range st.subs {
		if s.ts == nil && !s.release {
			b.bind(c, s, nil, nil, time.Time{})
		}
	}
	held := st.held
	st.held, st.heldSince = nil, nil
	for _, p := range held {
		b.send(c, p)
	}
}

// disconnect closes the connection: for good when the actor stops (it waits for every
// goroutine it owns), or to connect again when it restarts (the owners keep their
// consumers, which are resumed on the next connection).
func (b *bridgeActor) disconnect(c actor.Context, final bool) {
	st := b.st
	if st.redialing != nil {
		st.redialing.Stop()
		st.redialing = nil
	}
	t := st.t
	st.t, st.connecting = nil, false
	st.tGen++ // reports of the old connection are stale now
	for _, s := range st.subs {
		s.ts = nil
	}
	if !final {
		if t != nil {
			b.closeAsync(c, t)
		}
		b.notifyWatchers(c)
		return
	}
	// The last act of the bridge: nothing is left to answer, so it may wait.
	if st.holdTimer != nil {
		st.holdTimer.Stop()
	}
	for _, p := range st.held {
		b.publishedMsg(c, &published{m: p, err: ErrClosed})
	}
	st.held = nil
	st.cancel()
	if t != nil {
		if err := t.Close(); err != nil {
			st.cfg.log.Warn("closing the connection", "err", err)
		}
	}
	st.wg.Wait()
	st.settler.close()
}

// closeAsync closes t on an owned goroutine; a new connection waits for it.
func (b *bridgeActor) closeAsync(c actor.Context, t Transport) {
	st := b.st
	done := make(chan struct{})
	st.releasing[""] = append(st.releasing[""], done)
	self, sys := c.Self(), c.ActorSystem()
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		_ = t.Close()
		close(done)
		sys.Root.Send(self, &released{queue: "", done: done})
	}()
}

func (b *bridgeActor) link(c actor.Context, m *linkEvent) {
	st := b.st
	if m.gen != st.tGen || st.t == nil {
		return
	}
	if m.up && !st.up {
		st.cfg.metrics.Reconnect()
	}
	st.up, st.linkErr = m.up, m.reason
	b.notifyWatchers(c)
}

func (b *bridgeActor) notifyWatchers(c actor.Context) {
	st := b.st
	l := &Link{Up: st.t != nil && st.up, Err: st.linkErr}
	for _, w := range st.watchers {
		c.Send(w, l)
	}
}

func (b *bridgeActor) publish(c actor.Context, m *Publish) {
	st := b.st
	if m.Forward && m.Settle != nil && m.Expiration <= 0 && st.t != nil && st.up && m.Settle.CanForward() {
		b.forward(c, m)
		return
	}
	if m.Settle != nil {
		if s := st.subs[m.Settle.sub]; s != nil {
			s.owed++
		}
	}
	switch {
	case m.FailFast && (st.t == nil || !st.up || !connected(st.t)):
		b.publishedMsg(c, &published{m: m, err: fmt.Errorf("%w: the bridge has no connection now", ErrConnectionLost)})
	case st.t == nil:
		st.held = append(st.held, m)
		st.heldSince = append(st.heldSince, time.Now())
		b.armHold(c)
	default:
		b.send(c, m)
	}
}

// send hands a publish to the current connection. An outcome the transport knows at
// once (the in-process broker's, or a failure before anything was sent) is taken here;
// one that comes later, from a transport goroutine, comes back as *published.
func (b *bridgeActor) send(c actor.Context, m *Publish) {
	st := b.st
	o := st.outcome(c)
	o.pub.m = m
	if ex, ok := st.t.(Expirer); ok && m.Expiration > 0 {
		ex.PublishExpiring(m.Queue, m.Body, m.Headers, m.Expiration, o.fn)
	} else {
		st.t.Publish(m.Queue, m.Body, m.Headers, o.fn)
	}
	if p := o.slot.Swap(&returned); p != nil {
		b.publishedMsg(c, p)
		// done has run and will not look at o again: it is free for the next publish.
		o.pub = published{}
		o.slot.Store(nil)
		st.spare = o
	}
}

// outcome carries the outcome of one publish to the bridge actor: through slot while
// the transport's Publish has not returned, as a message afterwards. An outcome taken
// at once is used again for the next publish (the in-process broker's publishes then
// allocate none).
type outcome struct {
	pub  published
	slot atomic.Pointer[published] // &pub once done ran during Publish; &returned after it
	self *actor.PID
	sys  *actor.ActorSystem
	fn   func(error) // done
}

// outcome returns an unused outcome: the spare one, or a new one.
func (st *state) outcome(c actor.Context) *outcome {
	if o := st.spare; o != nil {
		st.spare = nil
		return o
	}
	o := &outcome{self: c.Self(), sys: c.ActorSystem()}
	o.fn = o.done
	return o
}

// returned marks an outcome whose Publish has returned.
var returned published

// done is the transport's done callback; it is called once, from any goroutine.
func (o *outcome) done(err error) {
	o.pub.err = err // read only by whoever wins slot
	if o.slot.CompareAndSwap(nil, &o.pub) {
		return
	}
	o.sys.Root.Send(o.self, &published{m: o.pub.m, err: err})
}

func connected(t Transport) bool {
	cn, ok := t.(Connectivity)
	return !ok || cn.Connected()
}

func (b *bridgeActor) armHold(c actor.Context) {
	st := b.st
	if st.holdTimer != nil || len(st.held) == 0 {
		return
	}
	self, sys := c.Self(), c.ActorSystem()
	st.holdTimer = time.AfterFunc(time.Until(st.heldSince[0].Add(st.cfg.holdFor)), func() { sys.Root.Send(self, &expireHeld{}) })
}

// expire fails the held publishes that waited holdFor.
func (b *bridgeActor) expire(c actor.Context) {
	st := b.st
	now := time.Now()
	n := 0
	for n < len(st.held) && !now.Before(st.heldSince[n].Add(st.cfg.holdFor)) {
		n++
	}
	expired := st.held[:n]
	st.held, st.heldSince = st.held[n:], st.heldSince[n:]
	for _, m := range expired {
		b.publishedMsg(c, &published{m: m, err: fmt.Errorf("%w: %s not published: the bridge had no connection within %v", ErrConnectionLost, m.Queue, st.cfg.holdFor)})
	}
	b.armHold(c)
}

// publishedMsg settles what the publish was to settle and tells who asked.
func (b *bridgeActor) publishedMsg(c actor.Context, m *published) {
	st := b.st
	p := m.m
	if d := p.Settle; d != nil {
		requeue := errors.Is(m.err, ErrConnectionLost)
		if requeue {
			b.settle(d, true, true)
		} else {
			b.settle(d, false, false)
		}
		if s := st.subs[d.sub]; s != nil {
			s.owed--
			if s.release && s.owed <= 0 {
				b.cancelSub(c, s)
			}
		}
	}
	if p.Notify != nil && (m.err != nil || !p.ErrorsOnly) {
		c.Send(p.Notify, &Published{Queue: p.Queue, Tag: p.Tag, Err: m.err})
	}
}

// forward hands a Publish.Forward to the settler goroutine: after the settlements queued
// before it, and before any cancel of its consumer, so it needs no Release to wait.
func (b *bridgeActor) forward(c actor.Context, m *Publish) {
	st := b.st
	if m.Notify != nil && !slices.ContainsFunc(st.forwarders, m.Notify.Equal) {
		st.forwarders = append(st.forwarders, m.Notify)
		c.Watch(m.Notify)
	}
	st.settler.push(settleOp{d: m.Settle, fwd: m})
}

// settle hands a settlement to the settler goroutine, in order.
func (b *bridgeActor) settle(d *Delivery, nack, requeue bool) {
	if d == nil {
		return
	}
	op := settleOp{d: d, nack: nack, requeue: requeue}
	if _, ok := d.acker.(*memAcker); ok {
		// The in-process broker settles in memory, under a lock held only briefly: no
		// goroutine hand-off. Before a cancel still queued on the settler, which then
		// does not requeue it.
		op.do(b.st.settler)
		return
	}
	b.st.settler.push(op)
}

func (b *bridgeActor) open(c actor.Context, m *Open) {
	st := b.st
	st.nextSub++
	s := &sub{id: st.nextSub, owner: c.Sender(), queue: m.Queue, session: m.Session, prefetch: m.Prefetch, exclusive: m.Exclusive, declared: m.Declared, shared: m.Shared}
	st.subs[s.id] = s
	if m.Session != "" && !slices.Contains(st.sessions, m.Session) {
		st.sessions = append(st.sessions, m.Session)
	}
	if st.t == nil {
		// Bound once connected; the asker waits for its Opened until then.
		s.pendingReply, s.pendingTag, s.pendingDeadline = c.Sender(), m.Tag, m.Deadline
		return
	}
	b.bind(c, s, c.Sender(), m.Tag, m.Deadline)
}

// declare declares a session's queues on the current connection (after a reconnect).
func (b *bridgeActor) declare(c actor.Context, sid string) {
	st := b.st
	t, ctx := st.t, st.ctx
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		if err := t.DeclareSession(ctx, sid); err != nil && ctx.Err() == nil {
			st.cfg.log.Warn("cannot declare a session's queues again", "session", sid, "err", err)
		}
	}()
}

// bind declares the session and consumes s on the current connection, after the releases
// of its queue asked before; the result comes back as *bound.
func (b *bridgeActor) bind(c actor.Context, s *sub, reply *actor.PID, tag any, deadline time.Time) {
	st := b.st
	if reply == nil && s.pendingReply != nil {
		reply, tag, deadline = s.pendingReply, s.pendingTag, s.pendingDeadline
		s.pendingReply, s.pendingTag = nil, nil
	}
	t, gen, self, sys := st.t, st.tGen, c.Self(), c.ActorSystem()
	ctx, cancel := st.ctx, context.CancelFunc(func() {})
	if !deadline.IsZero() {
		ctx, cancel = context.WithDeadline(st.ctx, deadline)
	}
	before := slices.Clone(st.releasing[s.queue])
	owner, id := s.owner, s.id
	deliver := func(d *Delivery) {
		d.sub = id
		sys.Root.Send(owner, d)
	}
	session, queue, prefetch, exclusive := s.session, s.queue, s.prefetch, s.exclusive
	adopter, _ := t.(SessionAdopter)
	sharer, _ := t.(SharedConsumer)
	shared := s.shared && exclusive && sharer != nil
	adopt := s.declared && session != "" && adopter != nil
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		defer cancel()
		for _, done := range before {
			select {
			case <-done:
			case <-ctx.Done():
			}
		}
		consume := func() (Subscription, error) {
			if shared {
				return sharer.ConsumeExclusiveShared(ctx, queue, prefetch, deliver, func(err error) {
					sys.Root.Send(self, &lost{id: id, gen: gen, err: err})
				})
			}
			if exclusive {
				return t.ConsumeExclusive(ctx, queue, prefetch, deliver, func(err error) {
					sys.Root.Send(self, &lost{id: id, gen: gen, err: err})
				})
			}
			return t.Consume(ctx, queue, prefetch, deliver)
		}
		var err error
		var ts Subscription
		switch {
		case adopt:
			// Its owner declared the pair: consume first, declare only if it is gone.
			if ts, err = consume(); errors.Is(err, ErrNoQueue) {
				if err = t.DeclareSession(ctx, session); err == nil {
					ts, err = consume()
				}
			} else if err == nil {
				adopter.AdoptSession(session)
			}
		case session != "":
			if err = t.DeclareSession(ctx, session); err == nil {
				ts, err = consume()
			}
		default:
			ts, err = consume()
		}
		sys.Root.Send(self, &bound{id: id, queue: queue, gen: gen, ts: ts, err: err, reply: reply, tag: tag})
	}()
}

func (b *bridgeActor) boundMsg(c actor.Context, m *bound) {
	st := b.st
	s := st.subs[m.id]
	switch {
	case s == nil || s.release || m.gen != st.tGen:
		// Released meanwhile, or made on a connection that is gone: nobody wants it.
		if m.ts != nil {
			b.cancelAsync(c, m.queue, m.ts)
		}
		if m.reply != nil && s == nil {
			c.Send(m.reply, &Opened{Queue: m.queue, Tag: m.tag, Err: ErrClosed})
		}
	case m.err != nil:
		if m.reply != nil {
			delete(st.subs, m.id)
			c.Send(m.reply, &Opened{Queue: s.queue, Tag: m.tag, Err: m.err})
			return
		}
		// Resuming after a reconnect failed.
		st.cfg.log.Warn("cannot resume a consumer on the new connection", "queue", s.queue, "err", m.err)
		if s.exclusive && errors.Is(m.err, ErrInUse) {
			delete(st.subs, s.id)
			c.Send(s.owner, &Lost{Sub: s.id, Queue: s.queue, Err: m.err})
		}
	default:
		s.ts, s.gen = m.ts, m.gen
		if m.reply != nil {
			c.Send(m.reply, &Opened{Queue: s.queue, Sub: s.id, Tag: m.tag})
		}
	}
}

func (b *bridgeActor) lostMsg(c actor.Context, m *lost) {
	st := b.st
	s := st.subs[m.id]
	if s == nil || m.gen != s.gen {
		return
	}
	delete(st.subs, m.id)
	c.Send(s.owner, &Lost{Sub: s.id, Queue: s.queue, Err: m.err})
}

// release cancels a consumer once the settlements owed for it are done.
func (b *bridgeActor) release(c actor.Context, id SubID) {
	st := b.st
	s := st.subs[id]
	if s == nil || s.release {
		return
	}
	s.release = true
	if s.owed > 0 {
		self, sys := c.Self(), c.ActorSystem()
		s.deadline = time.AfterFunc(st.cfg.releaseWait, func() { sys.Root.Send(self, &releaseTimeout{id: id}) })
		return
	}
	b.cancelSub(c, s)
}

func (b *bridgeActor) cancelSub(c actor.Context, s *sub) {
	st := b.st
	delete(st.subs, s.id)
	if s.deadline != nil {
		s.deadline.Stop()
	}
	if s.pendingReply != nil {
		c.Send(s.pendingReply, &Opened{Queue: s.queue, Tag: s.pendingTag, Err: ErrClosed})
	}
	if s.ts != nil {
		b.cancelAsync(c, s.queue, s.ts)
	}
}

// cancelAsync cancels ts after the settlements queued before it, on the settler
// goroutine; an Open of the same queue, or a new connection, waits for it.
func (b *bridgeActor) cancelAsync(c actor.Context, queue string, ts Subscription) {
	st := b.st
	done := make(chan struct{})
	st.releasing[queue] = append(st.releasing[queue], done)
	self, sys := c.Self(), c.ActorSystem()
	st.settler.push(settleOp{run: func() {
		_ = ts.Cancel()
		close(done)
		sys.Root.Send(self, &released{queue: queue, done: done})
	}})
}

func (b *bridgeActor) probe(c actor.Context, m *Probe) {
	st := b.st
	p, ok := st.t.(Prober)
	if st.t == nil {
		c.Respond(&Probed{Queue: m.Queue, Tag: m.Tag, Err: ErrConnectionLost})
		return
	}
	if !ok {
		c.Respond(&Probed{Queue: m.Queue, Tag: m.Tag, Err: ErrUnsupported})
		return
	}
	to, sys, ctx := c.Sender(), c.ActorSystem(), st.ctx
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		n, msgs, err := p.Stat(ctx, m.Queue)
		if to != nil {
			sys.Root.Send(to, &Probed{Queue: m.Queue, Tag: m.Tag, Consumers: n, Messages: msgs, Err: err})
		}
	}()
}

func (b *bridgeActor) drain(c actor.Context, m *Drain) {
	st := b.st
	if st.t == nil {
		c.Respond(&Drained{Queue: m.Queue, Tag: m.Tag, Err: ErrConnectionLost})
		return
	}
	dr, ok := st.t.(Drainer)
	if !ok {
		c.Respond(&Drained{Queue: m.Queue, Tag: m.Tag, Err: ErrUnsupported})
		return
	}
	to, sys, ctx := c.Sender(), c.ActorSystem(), st.ctx
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		msgs, err := dr.Drain(ctx, m.Queue, m.Max)
		if to != nil {
			sys.Root.Send(to, &Drained{Queue: m.Queue, Tag: m.Tag, Msgs: msgs, Err: err})
		}
	}()
}

func (b *bridgeActor) deleteSession(c actor.Context, m *DeleteSession) {
	st := b.st
	answer := func(err error) { c.Respond(&Deleted{Session: m.Session, Tag: m.Tag, Err: err}) }
	if st.t == nil {
		answer(ErrConnectionLost)
		return
	}
	dl, ok := st.t.(Deleter)
	if !ok {
		answer(ErrUnsupported)
		return
	}
	before := append(slices.Clone(st.releasing[wire.SendQueue(m.Session)]), st.releasing[wire.RecieveQueue(m.Session)]...)
	to, sys, ctx := c.Sender(), c.ActorSystem(), st.ctx
	st.wg.Add(1)
	go func() {
		defer st.wg.Done()
		for _, done := range before {
			select {
			case <-done:
			case <-ctx.Done():
			}
		}
		err := dl.DeleteSession(ctx, m.Session)
		if to != nil {
			sys.Root.Send(to, &Deleted{Session: m.Session, Tag: m.Tag, Err: err})
		}
	}()
}
