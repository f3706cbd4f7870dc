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

// subscription is one consumer on its own channel.
type subscription struct {
	t        *Transport
	queue    string
	prefetch int
	tag      string
	deliver  func(*bridge.Delivery)

	ch       *amqp.Channel
	stopping atomic.Bool   // set by Cancel: deliveries still buffered are not delivered
	done     chan struct{} // closed when the delivery goroutine has exited
	once     sync.Once
}

// Consume starts a consumer on queue with its own channel, basic.qos prefetch (<= 0 means
// bridge.DefaultPrefetch) and manual acknowledgement. deliver is called from one goroutine
// the transport owns, one delivery at a time, and must not block. A queue that does not
// exist fails with bridge.ErrNoQueue. When the connection is lost the consumer ends and
// RabbitMQ requeues its unacknowledged deliveries.
func (t *Transport) Consume(ctx context.Context, queue string, prefetch int, deliver func(*bridge.Delivery)) (bridge.Subscription, error) {
	l, err := t.current()
	if err != nil {
		return nil, err
	}
	if prefetch <= 0 {
		prefetch = bridge.DefaultPrefetch
	}
	s := &subscription{
		t:        t,
		queue:    queue,
		prefetch: min(prefetch, maxPrefetch),
		tag:      t.opts.name + "-" + strconv.FormatUint(t.tags.Add(1), 10),
		deliver:  deliver,
		done:     make(chan struct{}),
	}
	_, err = run(t, ctx, func() (*subscription, error) { return s, t.subscribe(l, s) }, func(s *subscription) { _ = s.Cancel() })
	if err != nil {
		return nil, err
	}
	return s, nil
}

// subscribe opens s's channel, starts the consumer and its delivery goroutine.
func (t *Transport) subscribe(l *link, s *subscription) error {
	ch, err := l.channel(false)
	if err != nil {
		return l.opError("consuming "+s.queue+": opening a channel", err)
	}
	if err := ch.Qos(s.prefetch, 0, false); err != nil {
		_ = ch.Close()
		return l.opError("consuming "+s.queue+": setting prefetch", err)
	}
	deliveries, err := ch.Consume(s.queue, s.tag, false, false, false, false, nil)
	if err != nil {
		_ = ch.Close()
		var amqpErr *amqp.Error
		if errors.As(err, &amqpErr) && amqpErr.Code == amqp.NotFound {
			return fmt.Errorf("%w: %s", bridge.ErrNoQueue, s.queue)
		}
		return l.opError("consuming "+s.queue, err)
	}
	s.ch = ch
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		_ = ch.Close()
		return bridge.ErrClosed
	}
	t.subs[s] = struct{}{}
	t.wg.Add(1)
	t.mu.Unlock()
	go s.run(deliveries)
	return nil
}

// run delivers until the consumer is cancelled or its channel closes.
func (s *subscription) run(deliveries <-chan amqp.Delivery) {
	defer s.t.wg.Done()
	defer close(s.done)
	for d := range deliveries {
		if s.stopping.Load() {
			continue // left unacknowledged: requeued when Cancel closes the channel
		}
		s.deliver(bridge.NewDelivery(s.queue, d.Body, wire.Headers(d.Headers), d.Redelivered, acker{ch: s.ch, tag: d.DeliveryTag}))
	}
	switch {
	case s.stopping.Load():
	case s.ch.IsClosed():
		s.t.log.Warn("consumer ended: its channel or connection closed", "queue", s.queue, "consumer", s.tag)
	default:
		s.t.log.Warn("consumer ended: cancelled by the broker (queue deleted?)", "queue", s.queue, "consumer", s.tag)
	}
}

// Cancel cancels the consumer, waits until deliver has returned for the last time and
// closes the channel, so RabbitMQ requeues the unacknowledged deliveries. It is
// idempotent and returns nil; on a lost connection it returns at once.
func (s *subscription) Cancel() error {
	s.once.Do(func() {
		s.stopping.Store(true)
		if err := s.ch.Cancel(s.tag, false); err != nil {
			_ = s.ch.Close() // ends the deliveries either way
		}
		<-s.done
		_ = s.ch.Close()
		s.t.mu.Lock()
		delete(s.t.subs, s)
		s.t.mu.Unlock()
	})
	return nil
}

// acker settles one delivery on the channel it came from.
type acker struct {
	ch  *amqp.Channel
	tag uint64
}

func (a acker) Ack() error { return a.ch.Ack(a.tag, false) }

func (a acker) Nack(requeue bool) error { return a.ch.Nack(a.tag, false, requeue) }
