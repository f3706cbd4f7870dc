package amqpbridge

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/wire"
	amqp "github.com/rabbitmq/amqp091-go"
)

// errCancelled ends the binding of a subscription cancelled meanwhile.
var errCancelled = errors.New("subscription cancelled")

// subscription is one consumer. It outlives connections: after a reconnect the keeper binds
// it to the new link (a new channel, the same consumer tag and prefetch), and the caller's
// deliver keeps being called.
type subscription struct {
	t        *Transport
	queue    string
	prefetch int
	tag      string
	deliver  func(*bridge.Delivery)
	// exclusive consumers are refused while the queue has another consumer; lost is
	// called when a reconnect finds the queue taken (see lose).
	exclusive bool
	lost      func(error)
	// shared consumers use one of SharedShards channels of the link per prefetch
	// instead of a channel each (see ConsumeExclusiveShared).
	shared bool

	bindMu sync.Mutex // held while binding to a link: one bind at a time

	mu        sync.Mutex
	cancelled bool
	cur       *binding // the newest binding; nil until the first succeeds

	once sync.Once
}

// binding is a subscription's consumer on one link: its channel and delivery goroutine.
type binding struct {
	l        *link
	ch       *amqp.Channel
	rpc      *sync.Mutex   // for a shared ch (subscription.shared): held for each RPC on it
	stopping atomic.Bool   // set by Cancel: deliveries still buffered are not delivered
	done     chan struct{} // closed when the delivery goroutine has exited

	// A shared binding keeps the tags it handed out and not yet settled: Cancel requeues
	// them, as closing a channel of its own would, and a settlement that comes later (or
	// twice) is refused here instead of reaching the channel, where an unknown tag would
	// close it for every consumer on it.
	mu        sync.Mutex
	unsettled map[uint64]struct{}
	cancelled bool
}

// cancel cancels b's consumer tag on its channel, an RPC.
func (b *binding) cancel(tag string) error {
	_, err := lockedRPC(b.rpc, func() (none, error) { return none{}, b.ch.Cancel(tag, false) })
	return err
}

// lockedRPC runs an RPC on a channel, holding mu if it is not nil.
func lockedRPC[T any](mu *sync.Mutex, rpc func() (T, error)) (T, error) {
	if mu != nil {
		mu.Lock()
		defer mu.Unlock()
	}
	return rpc()
}

// handOut records tag as handed to the owner (shared bindings only).
func (b *binding) handOut(tag uint64) {
	b.mu.Lock()
	b.unsettled[tag] = struct{}{}
	b.mu.Unlock()
}

// settle runs op (an ack or a nack of tag) if tag is still unsettled; for a shared
// binding, once.
func (b *binding) settle(tag uint64, op func() error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.unsettled[tag]; !ok {
		if b.cancelled {
			return amqp.ErrClosed // requeued at Cancel, as a closed channel would have
		}
		return errSettled
	}
	delete(b.unsettled, tag)
	return op()
}

// requeueUnsettled nacks, with requeue, what b handed out and was not settled; later
// settlements are refused. For a shared binding, at Cancel.
func (b *binding) requeueUnsettled() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cancelled = true
	for tag := range b.unsettled {
		_ = b.ch.Nack(tag, false, true)
	}
	clear(b.unsettled)
}

// errSettled refuses a second settlement of a delivery on a shared channel.
var errSettled = errors.New("delivery settled already")

// Consume starts a consumer on queue with its own channel, basic.qos prefetch (<= 0 means
// bridge.DefaultPrefetch) and manual acknowledgement. deliver is called from one goroutine
// at a time that the transport owns, one delivery at a time, and must not block. A queue
// that does not exist fails with bridge.ErrNoQueue.
//
// While the connection is down Consume waits within ctx for it to come back. The consumer
// survives reconnects: it is resumed on a new channel of the new connection, and RabbitMQ
// redelivers (with Redelivered set) what was unacknowledged when the old one dropped.
func (t *Transport) Consume(ctx context.Context, queue string, prefetch int, deliver func(*bridge.Delivery)) (bridge.Subscription, error) {
	return t.consume(ctx, queue, prefetch, deliver, false, nil, false)
}

// ConsumeExclusive is Consume with an exclusive consumer (basic.consume exclusive): it
// fails with bridge.ErrInUse while the queue has another consumer, and RabbitMQ refuses
// every other consumer while it lasts. Exclusive consumers are a consumer flag, not a
// queue argument, so peers that declare the queue see nothing different. When a reconnect
// finds the queue taken by another consumer, the subscription ends and lost (may be nil)
// is called once with an error matching bridge.ErrInUse.
func (t *Transport) ConsumeExclusive(ctx context.Context, queue string, prefetch int, deliver func(*bridge.Delivery), lost func(error)) (bridge.Subscription, error) {
	return t.consume(ctx, queue, prefetch, deliver, true, lost, false)
}

// ConsumeExclusiveShared is ConsumeExclusive on a channel the transport shares among such
// consumers (SharedShards per prefetch), for a process that consumes many queues, as the
// registry consumes every component's send queue: a thousand channels of their own made
// messages through the process slower (BenchmarkEchoBesideIdleConsumers: a median p50
// about 1.1x in four runs on this project's 2-core machine, noisy) and cost two more
// round trips per consumer to open. Its queue's consumers are counted first (a passive
// declare, or DeclareSession's declare of the queue when it found none less than
// countFresh ago), so that a queue held by another consumer is refused without the
// refusal closing the shared channel. At Cancel, the deliveries the consumer handed out
// and that were not settled are requeued (a nack) instead of by closing its channel, and
// settling one later fails as on a closed channel.
func (t *Transport) ConsumeExclusiveShared(ctx context.Context, queue string, prefetch int, deliver func(*bridge.Delivery), lost func(error)) (bridge.Subscription, error) {
	return t.consume(ctx, queue, prefetch, deliver, true, lost, true)
}

func (t *Transport) consume(ctx context.Context, queue string, prefetch int, deliver func(*bridge.Delivery), exclusive bool, lost func(error), shared bool) (bridge.Subscription, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if prefetch <= 0 {
		prefetch = bridge.DefaultPrefetch
	}
	s := &subscription{
		t:         t,
		queue:     queue,
		prefetch:  min(prefetch, maxPrefetch),
		tag:       t.opts.name + "-" + strconv.FormatUint(t.tags.Add(1), 10),
		deliver:   deliver,
		exclusive: exclusive,
		lost:      lost,
		shared:    shared,
	}
	// Registered first, so that a reconnect while this call waits binds it too.
	t.mu.Lock()
	switch {
	case t.closed:
		t.mu.Unlock()
		return nil, bridge.ErrClosed
	case t.dead != nil:
		err := t.dead
		t.mu.Unlock()
		return nil, err
	}
	t.subs[s] = struct{}{}
	t.mu.Unlock()
	for {
		l, err := t.waitLink(ctx)
		if err == nil {
			_, err = run(t, ctx, func() (none, error) { return none{}, t.bind(l, s) })
			if err == nil {
				return s, nil
			}
			if t.retryable(ctx, l, err) {
				continue
			}
		}
		_ = s.Cancel() // a bind still running sees it and closes its channel
		return nil, err
	}
}

// bind consumes s on l unless it is already bound there: it opens a channel, sets the
// prefetch, starts the consumer and its delivery goroutine. A previous binding (on a link
// that is down, whose connection is closed) must have delivered its last message first, so
// deliver is never called by two goroutines at once.
func (t *Transport) bind(l *link, s *subscription) error {
	s.bindMu.Lock()
	defer s.bindMu.Unlock()
	// With l up, s.cur cannot be on a newer link: there is none yet.
	if err := l.err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.cancelled {
		s.mu.Unlock()
		return errCancelled
	}
	old := s.cur
	s.mu.Unlock()
	if old != nil {
		if old.l == l {
			select {
			case <-old.done: // its channel closed while l stays up: consume again
			default:
				return nil
			}
		}
		<-old.done // old.l is down: its deliveries end
	}

	var ch *amqp.Channel
	var rpc *sync.Mutex // a shared channel's: its RPCs go one at a time
	if s.shared {
		sc, err := t.sharedChannel(l, s)
		if err != nil {
			return err
		}
		ch, rpc = sc.ch, &sc.rpc
	} else {
		var err error
		if ch, err = l.channel(false); err != nil {
			return l.opError("consuming "+s.queue+": opening a channel", err)
		}
		if err := ch.Qos(s.prefetch, 0, false); err != nil {
			_ = ch.Close()
			return l.opError("consuming "+s.queue+": setting prefetch", err)
		}
	}
	deliveries, err := lockedRPC(rpc, func() (<-chan amqp.Delivery, error) {
		return ch.Consume(s.queue, s.tag, false, s.exclusive, false, false, nil)
	})
	if err != nil {
		if !s.shared { // a shared channel the refusal closed is replaced at its next use
			_ = ch.Close()
		}
		switch amqpCode(err) {
		case amqp.NotFound:
			return fmt.Errorf("%w: %s", bridge.ErrNoQueue, s.queue)
		case amqp.AccessRefused: // "queue ... in exclusive use": another consumer has it
			return fmt.Errorf("%w: %s has another consumer (%s)", bridge.ErrInUse, s.queue, reason(err))
		}
		return l.opError("consuming "+s.queue, err)
	}
	b := &binding{l: l, ch: ch, rpc: rpc, done: make(chan struct{})}
	if s.shared {
		b.unsettled = map[uint64]struct{}{}
	}
	// end undoes the consumer just started when nobody wants it any more.
	end := func() {
		if s.shared {
			if b.cancel(s.tag) == nil {
				for d := range deliveries {
					_ = d.Nack(false, true)
				}
			}
			return
		}
		_ = ch.Close()
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancelled {
		end()
		return errCancelled
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		end()
		return bridge.ErrClosed
	}
	t.wg.Add(1)
	t.mu.Unlock()
	s.cur = b
	go s.run(b, deliveries)
	return nil
}

// run is the delivery goroutine of b: it delivers until the consumer is cancelled or its
// channel closes. Deliveries buffered when the link went down are dropped: they cannot be
// acknowledged any more and RabbitMQ redelivers them.
func (s *subscription) run(b *binding, deliveries <-chan amqp.Delivery) {
	defer s.t.wg.Done()
	defer close(b.done)
	for d := range deliveries {
		if b.stopping.Load() || b.l.err() != nil {
			if s.shared && b.l.err() == nil {
				_ = d.Nack(false, true) // its channel stays open: requeue it now
			}
			continue // left unacknowledged: requeued by RabbitMQ as the channel closes
		}
		a := acker{ch: b.ch, conn: b.l.conn, tag: d.DeliveryTag}
		if s.shared {
			b.handOut(d.DeliveryTag)
			a.b = b
		}
		s.deliver(bridge.NewDelivery(s.queue, d.Body, wire.Headers(d.Headers), d.Redelivered, a))
	}
	switch {
	case b.stopping.Load():
		return
	case b.l.conn.IsClosed():
		if !s.t.reconnects() {
			s.t.log.Warn("consumer ended: the connection is lost", "queue", s.queue, "consumer", s.tag)
		}
		return // the keeper resumes it on the next connection
	case b.ch.IsClosed():
		s.t.log.Warn("consumer ended: its channel closed", "queue", s.queue, "consumer", s.tag)
	default:
		s.t.log.Warn("consumer ended: cancelled by the broker (queue deleted?)", "queue", s.queue, "consumer", s.tag)
	}
	if s.t.reconnects() {
		s.t.spawn(func() { s.resume(b) })
	}
}

// resume consumes again, with backoff, after the broker ended old's consumer while the
// connection stayed up: its channel was closed (consumer_timeout, a channel error) or the
// queue was deleted, in which case the queues of a session this transport declared are
// declared again. It gives up when the subscription is cancelled, when the connection goes
// down (the keeper resumes it on the next one) or at Close.
func (s *subscription) resume(old *binding) {
	<-old.done
	l := old.l
	for attempt := 1; ; attempt++ {
		if !s.t.sleep(max(s.t.opts.reconnect.Delay(attempt), minRedialDelay)) {
			return
		}
		s.mu.Lock()
		current := !s.cancelled && s.cur == old
		s.mu.Unlock()
		if !current || l.err() != nil {
			return
		}
		err := s.t.bind(l, s)
		if err == nil {
			s.t.log.Info("consumer resumed", "queue", s.queue, "consumer", s.tag, "attempts", attempt)
			return
		}
		if errors.Is(err, errCancelled) || l.err() != nil {
			return
		}
		if s.exclusive && errors.Is(err, bridge.ErrInUse) {
			s.lose(err)
			return
		}
		if sid, ok := s.t.sessionOf(s.queue); ok && errors.Is(err, bridge.ErrNoQueue) {
			ctx, cancel := context.WithTimeout(context.Background(), redialTimeout)
			if _, derr := declareOn(s.t, ctx, l, s.t.declareSession(sid)); derr != nil {
				err = derr
			}
			cancel()
		}
		s.t.log.Warn("consumer not resumed yet", "queue", s.queue, "consumer", s.tag, "attempt", attempt, "err", err)
	}
}

// lose ends an exclusive subscription whose queue another consumer took while this one
// was not bound, and tells its owner.
func (s *subscription) lose(err error) {
	s.t.log.Error("lost an exclusive queue to another consumer", "queue", s.queue, "consumer", s.tag, "err", err)
	_ = s.Cancel()
	if s.lost != nil {
		s.lost(err)
	}
}

// Cancel cancels the consumer, waits until deliver has returned for the last time and
// closes the channel, so RabbitMQ requeues the unacknowledged deliveries. It is
// idempotent and returns nil; on a lost connection (also while reconnecting) it returns
// at once, and the consumer is not resumed.
func (s *subscription) Cancel() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.cancelled = true
		b := s.cur
		s.mu.Unlock()
		if b != nil {
			b.stopping.Store(true)
			// A shared channel that fails to cancel is closed already (or its connection
			// is): its deliveries end either way.
			if err := b.cancel(s.tag); err != nil && !s.shared {
				_ = b.ch.Close() // ends the deliveries either way
			}
			<-b.done
			if s.shared {
				b.requeueUnsettled()
			} else {
				_ = b.ch.Close()
			}
		}
		s.t.mu.Lock()
		delete(s.t.subs, s)
		s.t.mu.Unlock()
	})
	return nil
}

// sharedChannel returns l's open channel for the shared consumers with s's prefetch and
// shard of queue names, opening it if there is none (or the last one was closed). Before
// an exclusive consumer is started there, the queue's consumers are counted: a refusal of
// basic.consume closes its channel, which would end every consumer on it.
func (t *Transport) sharedChannel(l *link, s *subscription) (*sharedChan, error) {
	if s.exclusive {
		// A declare of the queue a moment ago that found none (DeclareSession) stands
		// for the count; one that found a consumer is checked again, since that
		// consumer may be on its way out (a restart of the same component).
		consumers, fresh := t.takeConsumers(s.queue)
		if !fresh || consumers > 0 {
			t.recounts.Add(1)
			q, err := declareOn(t, context.Background(), l, func(get declChan) (amqp.Queue, error) {
				ch, err := get()
				if err != nil {
					return amqp.Queue{}, err
				}
				return ch.QueueDeclarePassive(s.queue, false, false, false, false, nil)
			})
			switch {
			case amqpCode(err) == amqp.NotFound:
				return nil, fmt.Errorf("%w: %s", bridge.ErrNoQueue, s.queue)
			case err != nil:
				return nil, l.opError("consuming "+s.queue+": counting its consumers", err)
			}
			consumers = q.Consumers
		}
		if consumers > 0 {
			return nil, fmt.Errorf("%w: %s has %d other consumers", bridge.ErrInUse, s.queue, consumers)
		}
	}
	l.sharedMu.Lock()
	defer l.sharedMu.Unlock()
	key := sharedKey{prefetch: s.prefetch, shard: shardOf(s.queue)}
	if sc := l.shared[key]; sc != nil && !sc.ch.IsClosed() {
		return sc, nil
	}
	ch, err := l.channel(false)
	if err != nil {
		return nil, l.opError("consuming "+s.queue+": opening a channel", err)
	}
	if err := ch.Qos(s.prefetch, 0, false); err != nil {
		_ = ch.Close()
		return nil, l.opError("consuming "+s.queue+": setting prefetch", err)
	}
	// Deliveries of a shared channel can be forwarded on it (acker.Forward): what the
	// broker returns goes to the NotifyReturn callback.
	rets := ch.NotifyReturn(make(chan amqp.Return, returnBuffer))
	if !t.spawn(func() { t.returned(rets) }) {
		_ = ch.Close()
		return nil, bridge.ErrClosed
	}
	if l.shared == nil {
		l.shared = map[sharedKey]*sharedChan{}
	}
	sc := &sharedChan{ch: ch}
	l.shared[key] = sc
	return sc, nil
}

// sharedChan is a channel the shared consumers of one prefetch use. amqp091-go hands an
// RPC's reply to whichever caller waits on the channel: a basic.cancel-ok could go to a
// basic.consume started beside it, which failed both, left a consumer on the broker that
// nobody reads, and made the Cancel wait forever for its deliveries to end (and, in a
// registry, every acknowledgement queued behind it). rpc keeps the RPCs one at a time.
type sharedChan struct {
	ch  *amqp.Channel
	rpc sync.Mutex
}

// acker settles one delivery on the channel it came from. Delivery tags belong to a
// channel: a delivery from a connection that is gone is never settled on another one.
// Settling it is a no-op that returns nil, since RabbitMQ redelivers it anyway.
type acker struct {
	ch   *amqp.Channel
	conn *amqp.Connection
	tag  uint64
	b    *binding // a shared binding, which settles each tag once
}

func (a acker) Ack() error {
	return a.result(a.do(func() error { return a.ch.Ack(a.tag, false) }))
}

func (a acker) Nack(requeue bool) error {
	return a.result(a.do(func() error { return a.ch.Nack(a.tag, false, requeue) }))
}

// CanForward reports whether the delivery came on a shared channel, the ones whose
// returned messages the transport hands over (NotifyReturn).
func (a acker) CanForward() bool { return a.b != nil }

// Forward publishes body on queue (mandatory, transient, no publisher confirm) on the
// delivery's channel, then acknowledges the delivery there: see bridge.Forwarder. A
// message whose headers AMQP cannot carry is not published, and the delivery is
// acknowledged all the same (it would fail again), as a failed publish settles it.
//
// While an RPC of the shared channel waits for the broker (a basic.consume of a queue
// that is slow to answer, while a thousand components register), the broker's channel
// process is blocked in it, and a publish on the channel would wait behind it: Forward
// refuses (bridge.ErrNotForwardable) and the bridge publishes the usual way, on the
// publishing channel. Holding the lock also keeps an RPC from starting between the
// publish and the acknowledgement.
func (a acker) Forward(queue string, body []byte, h wire.Headers) error {
	if a.b == nil || a.b.rpc == nil || !a.b.rpc.TryLock() {
		return bridge.ErrNotForwardable
	}
	defer a.b.rpc.Unlock()
	headers := table(h)
	invalid := headers.Validate()
	err := a.result(a.b.settle(a.tag, func() error {
		if invalid == nil {
			err := a.ch.PublishWithContext(context.Background(), "", queue, true, false, amqp.Publishing{
				Headers: headers, DeliveryMode: amqp.Transient, Body: body,
			})
			if err != nil {
				return err
			}
		}
		return a.ch.Ack(a.tag, false)
	}))
	if err == nil && invalid != nil {
		err = fmt.Errorf("forwarding to %s: headers: %w", queue, invalid)
	}
	return err
}

func (a acker) do(op func() error) error {
	if a.b == nil {
		return op()
	}
	return a.b.settle(a.tag, op)
}

// result hides the failure to settle on a lost connection: amqp.ErrClosed once amqp091
// knows, a write error while it is finding out. A channel closed with its connection up
// (after Cancel) still reports amqp.ErrClosed.
func (a acker) result(err error) error {
	switch {
	case err == nil, a.conn.IsClosed():
		return nil
	case errors.Is(err, amqp.ErrClosed), errors.Is(err, errSettled):
		return err
	default: // the socket failed; amqp091 is shutting the connection down
		return nil
	}
}

// SharedShards is how many channels the shared consumers of one prefetch use on a
// connection. A shared channel's RPCs go one at a time (see sharedChan): on a single one,
// 1,000 components of a process starting together waited for each other's basic.consume,
// and registered in 3.7-4.1 s against 2.5-3.0 s on 4 or 8 channels.
const SharedShards = 4

// sharedKey names a shared channel of a link: a prefetch, and a shard of the queue names.
type sharedKey struct{ prefetch, shard int }

// shardOf is the shard of queue's consumer: a hash of the name, so that a consumer
// resumed on a new connection goes to the same shard.
func shardOf(queue string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(queue))
	return int(h.Sum32() % SharedShards)
}
