package bridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/at-technology/atqueue/wire"
)

// Embedded is the in-process broker: the same queues, acknowledgements, prefetch bounds
// and requeueing as RabbitMQ's default exchange, without a server. Queues live as long as
// the Embedded value (they are "durable" within the process). A bridge connects to it
// (Connect, as to RabbitMQ); its own methods are a connection of their own, for tests that
// play raw peers. It starts no goroutines: deliver callbacks run on the goroutine that
// published, acked or consumed.
type Embedded struct {
	mu     sync.Mutex
	queues map[string]*memQueue
	closed bool
}

// NewEmbedded returns an empty in-process transport.
func NewEmbedded() *Embedded {
	return &Embedded{queues: make(map[string]*memQueue)}
}

type memMessage struct {
	body        []byte
	headers     wire.Headers
	redelivered bool
	expires     time.Time // zero: never
	// rejected lists the consumers that nacked it with requeue: it is not offered to
	// them again, so a consumer that gives back what is not its own (a registrant on the
	// shared registry queue) does not spin on it, and what stands behind it still flows.
	rejected []*memConsumer
}

func (m *memMessage) rejectedBy(c *memConsumer) bool {
	for _, r := range m.rejected {
		if r == c {
			return true
		}
	}
	return false
}

type memConsumer struct {
	deliver  func(*Delivery)
	prefetch int
	unacked  map[uint64]memMessage
}

type memQueue struct {
	name        string
	mu          sync.Mutex
	ready       ready
	consumers   []*memConsumer
	next        int
	tag         uint64
	dispatching bool
	idle        *sync.Cond // signalled when dispatching ends
	exclusive   bool       // its only consumer asked to be the only one
}

// DeclareSession creates the queue pair of sid if it does not exist yet.
func (e *Embedded) DeclareSession(_ context.Context, sid string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	for _, q := range []string{wire.SendQueue(sid), wire.RecieveQueue(sid)} {
		if e.queues[q] == nil {
			mq := &memQueue{name: q}
			mq.idle = sync.NewCond(&mq.mu)
			e.queues[q] = mq
		}
	}
	return nil
}

func (e *Embedded) queue(name string) (*memQueue, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	q := e.queues[name]
	if q == nil {
		return nil, fmt.Errorf("%w: %s", ErrNoQueue, name)
	}
	return q, nil
}

// Depth reports the ready (not yet delivered) messages of a queue; for tests and inspection.
func (e *Embedded) Depth(name string) int {
	q, err := e.queue(name)
	if err != nil {
		return 0
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.ready.len()
}

// Consumers counts the consumers of a declared queue.
func (e *Embedded) Consumers(ctx context.Context, queue string) (int, error) {
	n, _, err := e.Stat(ctx, queue)
	return n, err
}

// Stat counts the consumers of a declared queue and its ready messages.
func (e *Embedded) Stat(_ context.Context, queue string) (consumers, messages int, err error) {
	q, err := e.queue(queue)
	if err != nil {
		return 0, 0, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.consumers), q.ready.len(), nil
}

// Consume attaches a consumer to a declared queue.
func (e *Embedded) Consume(_ context.Context, queue string, prefetch int, deliver func(*Delivery)) (Subscription, error) {
	return e.consume(queue, prefetch, deliver, false)
}

// ConsumeExclusive attaches the only consumer of a declared queue. The in-process
// transport never loses a consumer, so lost is never called.
func (e *Embedded) ConsumeExclusive(_ context.Context, queue string, prefetch int, deliver func(*Delivery), _ func(error)) (Subscription, error) {
	return e.consume(queue, prefetch, deliver, true)
}

func (e *Embedded) consume(queue string, prefetch int, deliver func(*Delivery), exclusive bool) (Subscription, error) {
	q, err := e.queue(queue)
	if err != nil {
		return nil, err
	}
	if prefetch <= 0 {
		prefetch = DefaultPrefetch
	}
	c := &memConsumer{deliver: deliver, prefetch: prefetch, unacked: make(map[uint64]memMessage)}
	q.mu.Lock()
	if q.exclusive || exclusive && len(q.consumers) > 0 {
		q.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrInUse, queue)
	}
	q.exclusive = exclusive
	q.consumers = append(q.consumers, c)
	q.mu.Unlock()
	q.dispatch()
	return &memSub{q: q, c: c}, nil
}

// Drain takes up to max ready messages off a declared queue, oldest first.
func (e *Embedded) Drain(_ context.Context, queue string, max int) ([]Message, error) {
	q, err := e.queue(queue)
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if n := len(q.consumers); n > 0 {
		return nil, fmt.Errorf("%w: %s has %d consumers: its messages are theirs", ErrInUse, queue, n)
	}
	now := time.Now()
	var out []Message
	for q.ready.len() > 0 && len(out) < max {
		m := q.ready.at(0)
		q.ready.remove(0)
		if !m.expires.IsZero() && now.After(m.expires) {
			continue
		}
		out = append(out, Message{Body: m.body, Headers: m.headers})
	}
	return out, nil
}

// Publish appends body to queue and delivers it if a consumer has room.
func (e *Embedded) Publish(queue string, body []byte, h wire.Headers, done func(error)) {
	e.PublishExpiring(queue, body, h, 0, done)
}

// PublishExpiring is Publish with a time to live: a message still in the queue after ttl
// is dropped (ttl <= 0: kept).
func (e *Embedded) PublishExpiring(queue string, body []byte, h wire.Headers, ttl time.Duration, done func(error)) {
	q, err := e.queue(queue)
	if err == nil {
		m := memMessage{body: body, headers: h}
		if ttl > 0 {
			m.expires = time.Now().Add(ttl)
		}
		q.mu.Lock()
		q.ready.push(m)
		q.mu.Unlock()
	}
	if done != nil {
		done(err)
	}
	if err == nil {
		q.dispatch()
	}
}

// Close drops every queue. Deliveries still unacknowledged can no longer be settled.
func (e *Embedded) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	return nil
}

// dispatch hands ready messages to consumers with room, in queue order. Only one
// goroutine dispatches a queue at a time; deliver runs outside the lock.
func (q *memQueue) dispatch() {
	q.mu.Lock()
	if q.dispatching {
		q.mu.Unlock()
		return
	}
	q.dispatching = true
	for {
		c, tag, m, ok := q.take()
		if !ok {
			break
		}
		q.mu.Unlock()
		d := &memDelivery{Delivery: Delivery{Queue: q.name, Body: m.body, Headers: m.headers, Redelivered: m.redelivered},
			acker: memAcker{q: q, c: c, tag: tag}}
		d.Delivery.acker = &d.acker
		c.deliver(&d.Delivery)
		q.mu.Lock()
	}
	q.dispatching = false
	q.idle.Broadcast()
	q.mu.Unlock()
}

// take picks the next message and a consumer with room, round robin. Caller holds q.mu.
func (q *memQueue) take() (*memConsumer, uint64, memMessage, bool) {
	if q.ready.len() == 0 || len(q.consumers) == 0 {
		return nil, 0, memMessage{}, false
	}
	var now time.Time // read once a message that expires is met
	for i := 0; i < len(q.consumers); i++ {
		c := q.consumers[(q.next+i)%len(q.consumers)]
		if len(c.unacked) >= c.prefetch {
			continue
		}
		for j := 0; j < q.ready.len(); j++ {
			m := q.ready.at(j)
			if !m.expires.IsZero() {
				if now.IsZero() {
					now = time.Now()
				}
				if now.After(m.expires) {
					q.ready.remove(j)
					j--
					continue
				}
			}
			if m.rejectedBy(c) {
				continue
			}
			q.ready.remove(j)
			q.next = (q.next + i + 1) % len(q.consumers)
			q.tag++
			c.unacked[q.tag] = m
			return c, q.tag, m, true
		}
	}
	return nil, 0, memMessage{}, false
}

// memDelivery is a delivery and its acker in one allocation.
type memDelivery struct {
	Delivery
	acker memAcker
}

type memAcker struct {
	q   *memQueue
	c   *memConsumer
	tag uint64
}

func (a *memAcker) Ack() error { return a.settle(false) }

func (a *memAcker) Nack(requeue bool) error { return a.settle(requeue) }

func (a *memAcker) settle(requeue bool) error {
	q := a.q
	q.mu.Lock()
	m, ok := a.c.unacked[a.tag]
	if ok {
		delete(a.c.unacked, a.tag)
		if requeue {
			m.redelivered = true
			m.rejected = append(slices.Clip(m.rejected), a.c)
			q.ready.pushFront(m)
		}
	}
	q.mu.Unlock()
	q.dispatch()
	return nil
}

type memSub struct {
	q        *memQueue
	c        *memConsumer
	once     sync.Once
	onCancel func() // set by the connection it belongs to, if any
}

// Cancel detaches the consumer and requeues what it had not acknowledged, in order.
func (s *memSub) Cancel() error {
	s.once.Do(func() {
		q := s.q
		q.mu.Lock()
		for i, c := range q.consumers {
			if c == s.c {
				q.consumers = append(q.consumers[:i:i], q.consumers[i+1:]...)
				q.exclusive = false
				break
			}
		}
		// A dispatch in progress may be about to call deliver; wait for it to finish so
		// that nothing is delivered after Cancel returns.
		for q.dispatching {
			q.idle.Wait()
		}
		tags := make([]uint64, 0, len(s.c.unacked))
		for tag := range s.c.unacked {
			tags = append(tags, tag)
		}
		slices.Sort(tags)
		back := make([]memMessage, 0, len(tags))
		for _, tag := range tags {
			m := s.c.unacked[tag]
			m.redelivered = true
			back = append(back, m)
			delete(s.c.unacked, tag)
		}
		q.ready.pushFront(back...)
		if len(q.consumers) > 0 {
			q.next %= len(q.consumers)
		} else {
			q.next = 0
		}
		q.mu.Unlock()
		q.dispatch()
		if s.onCancel != nil {
			s.onCancel()
		}
	})
	return nil
}

var _ Broker = (*Embedded)(nil)

// Connect opens a connection to the in-process broker. Like an AMQP connection, closing
// it cancels its consumers (their unacknowledged deliveries go back to their queues) and
// leaves the queues and what they hold to the broker.
func (e *Embedded) Connect(context.Context) (Transport, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	return &embeddedConn{e: e, subs: map[*memSub]struct{}{}}, nil
}

// embeddedConn is one connection to an Embedded broker.
type embeddedConn struct {
	e *Embedded

	mu     sync.Mutex
	closed atomic.Bool // set under mu, read without it by every publish
	subs   map[*memSub]struct{}
}

var (
	_ Transport    = (*embeddedConn)(nil)
	_ Prober       = (*embeddedConn)(nil)
	_ Drainer      = (*embeddedConn)(nil)
	_ Expirer      = (*embeddedConn)(nil)
	_ Connectivity = (*embeddedConn)(nil)
	_ Deleter      = (*embeddedConn)(nil)
)

func (c *embeddedConn) open() error {
	if c.closed.Load() {
		return ErrClosed
	}
	return nil
}

func (c *embeddedConn) DeclareSession(ctx context.Context, sid string) error {
	if err := c.open(); err != nil {
		return err
	}
	return c.e.DeclareSession(ctx, sid)
}

func (c *embeddedConn) Consume(ctx context.Context, queue string, prefetch int, deliver func(*Delivery)) (Subscription, error) {
	return c.consume(queue, prefetch, deliver, false)
}

func (c *embeddedConn) ConsumeExclusive(ctx context.Context, queue string, prefetch int, deliver func(*Delivery), _ func(error)) (Subscription, error) {
	return c.consume(queue, prefetch, deliver, true)
}

func (c *embeddedConn) consume(queue string, prefetch int, deliver func(*Delivery), exclusive bool) (Subscription, error) {
	if err := c.open(); err != nil {
		return nil, err
	}
	sub, err := c.e.consume(queue, prefetch, deliver, exclusive)
	if err != nil {
		return nil, err
	}
	ms := sub.(*memSub)
	ms.onCancel = func() {
		c.mu.Lock()
		delete(c.subs, ms)
		c.mu.Unlock()
	}
	c.mu.Lock()
	closed := c.closed.Load()
	if !closed {
		c.subs[ms] = struct{}{}
	}
	c.mu.Unlock()
	if closed {
		_ = ms.Cancel()
		return nil, ErrClosed
	}
	return ms, nil
}

func (c *embeddedConn) Publish(queue string, body []byte, h wire.Headers, done func(error)) {
	c.PublishExpiring(queue, body, h, 0, done)
}

func (c *embeddedConn) PublishExpiring(queue string, body []byte, h wire.Headers, ttl time.Duration, done func(error)) {
	if err := c.open(); err != nil {
		if done != nil {
			done(err)
		}
		return
	}
	c.e.PublishExpiring(queue, body, h, ttl, done)
}

func (c *embeddedConn) Consumers(ctx context.Context, queue string) (int, error) {
	if err := c.open(); err != nil {
		return 0, err
	}
	return c.e.Consumers(ctx, queue)
}

func (c *embeddedConn) Stat(ctx context.Context, queue string) (int, int, error) {
	if err := c.open(); err != nil {
		return 0, 0, err
	}
	return c.e.Stat(ctx, queue)
}

func (c *embeddedConn) Drain(ctx context.Context, queue string, max int) ([]Message, error) {
	if err := c.open(); err != nil {
		return nil, err
	}
	return c.e.Drain(ctx, queue, max)
}

// Connected reports whether the connection is open.
func (c *embeddedConn) Connected() bool { return c.open() == nil }

// Close cancels the connection's consumers, which requeues what they had not settled. It
// is idempotent.
func (c *embeddedConn) Close() error {
	c.mu.Lock()
	c.closed.Store(true)
	subs := make([]*memSub, 0, len(c.subs))
	for s := range c.subs {
		subs = append(subs, s)
	}
	c.mu.Unlock()
	for _, s := range subs {
		_ = s.Cancel()
	}
	return nil
}

var _ Deleter = (*Embedded)(nil)

// DeleteSession deletes the queue pair of sid where a queue is empty and unconsumed.
func (e *Embedded) DeleteSession(_ context.Context, sid string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrClosed
	}
	var errs []error
	for _, name := range []string{wire.SendQueue(sid), wire.RecieveQueue(sid)} {
		q := e.queues[name]
		if q == nil {
			continue
		}
		q.mu.Lock()
		busy := q.ready.len() > 0 || len(q.consumers) > 0
		q.mu.Unlock()
		if busy {
			errs = append(errs, fmt.Errorf("%w: %s is not empty or has a consumer", ErrInUse, name))
			continue
		}
		delete(e.queues, name)
	}
	return errors.Join(errs...)
}

func (c *embeddedConn) DeleteSession(ctx context.Context, sid string) error {
	if err := c.open(); err != nil {
		return err
	}
	return c.e.DeleteSession(ctx, sid)
}
