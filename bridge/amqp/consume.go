package amqpbridge

import (
	"context"
	"errors"
	"fmt"
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
	stopping atomic.Bool   // set by Cancel: deliveries still buffered are not delivered
	done     chan struct{} // closed when the delivery goroutine has exited
}

// Consume starts a consumer on queue with its own channel, basic.qos prefetch (<= 0 means
// bridge.DefaultPrefetch) and manual acknowledgement. deliver is called from one goroutine
// at a time that the transport owns, one delivery at a time, and must not block. A queue
// that does not exist fails with bridge.ErrNoQueue.
//
// While the connection is down Consume waits within ctx for it to come back. The consumer
// survives reconnects: it is resumed on a new channel of the new connection, and RabbitMQ
// redelivers (with Redelivered set) what was unacknowledged when the old one dropped.
func (t *Transport) Consume(ctx context.Context, queue string, prefetch int, deliver func(*bridge.Delivery)) (bridge.Subscription, error) {
	return t.consume(ctx, queue, prefetch, deliver, false, nil)
}

// ConsumeExclusive is Consume with an exclusive consumer (basic.consume exclusive): it
// fails with bridge.ErrInUse while the queue has another consumer, and RabbitMQ refuses
// every other consumer while it lasts. Exclusive consumers are a consumer flag, not a
// queue argument, so peers that declare the queue see nothing different. When a reconnect
// finds the queue taken by another consumer, the subscription ends and lost (may be nil)
// is called once with an error matching bridge.ErrInUse.
func (t *Transport) ConsumeExclusive(ctx context.Context, queue string, prefetch int, deliver func(*bridge.Delivery), lost func(error)) (bridge.Subscription, error) {
	return t.consume(ctx, queue, prefetch, deliver, true, lost)
}

func (t *Transport) consume(ctx context.Context, queue string, prefetch int, deliver func(*bridge.Delivery), exclusive bool, lost func(error)) (bridge.Subscription, error) {
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

	ch, err := l.channel(false)
	if err != nil {
		return l.opError("consuming "+s.queue+": opening a channel", err)
	}
	if err := ch.Qos(s.prefetch, 0, false); err != nil {
		_ = ch.Close()
		return l.opError("consuming "+s.queue+": setting prefetch", err)
	}
	deliveries, err := ch.Consume(s.queue, s.tag, false, s.exclusive, false, false, nil)
	if err != nil {
		_ = ch.Close()
		switch amqpCode(err) {
		case amqp.NotFound:
			return fmt.Errorf("%w: %s", bridge.ErrNoQueue, s.queue)
		case amqp.AccessRefused: // "queue ... in exclusive use": another consumer has it
			return fmt.Errorf("%w: %s has another consumer (%s)", bridge.ErrInUse, s.queue, reason(err))
		}
		return l.opError("consuming "+s.queue, err)
	}
	b := &binding{l: l, ch: ch, done: make(chan struct{})}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancelled {
		_ = ch.Close()
		return errCancelled
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		_ = ch.Close()
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
			continue // left unacknowledged: requeued by RabbitMQ
		}
		s.deliver(bridge.NewDelivery(s.queue, d.Body, wire.Headers(d.Headers), d.Redelivered, acker{ch: b.ch, conn: b.l.conn, tag: d.DeliveryTag}))
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
			if err := b.ch.Cancel(s.tag, false); err != nil {
				_ = b.ch.Close() // ends the deliveries either way
			}
			<-b.done
			_ = b.ch.Close()
		}
		s.t.mu.Lock()
		delete(s.t.subs, s)
		s.t.mu.Unlock()
	})
	return nil
}

// acker settles one delivery on the channel it came from. Delivery tags belong to a
// channel: a delivery from a connection that is gone is never settled on another one.
// Settling it is a no-op that returns nil, since RabbitMQ redelivers it anyway.
type acker struct {
	ch   *amqp.Channel
	conn *amqp.Connection
	tag  uint64
}

func (a acker) Ack() error { return a.result(a.ch.Ack(a.tag, false)) }

func (a acker) Nack(requeue bool) error { return a.result(a.ch.Nack(a.tag, false, requeue)) }

// result hides the failure to settle on a lost connection: amqp.ErrClosed once amqp091
// knows, a write error while it is finding out. A channel closed with its connection up
// (after Cancel) still reports amqp.ErrClosed.
func (a acker) result(err error) error {
	switch {
	case err == nil, a.conn.IsClosed():
		return nil
	case errors.Is(err, amqp.ErrClosed):
		return err
	default: // the socket failed; amqp091 is shutting the connection down
		return nil
	}
}
