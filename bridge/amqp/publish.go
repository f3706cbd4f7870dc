package amqpbridge

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/wire"
	amqp "github.com/rabbitmq/amqp091-go"
)

// outgoing is a message accepted by Publish.
type outgoing struct {
	queue    string
	body     []byte
	headers  wire.Headers
	done     func(error)
	deadline time.Time // for the confirm, from the Publish call
	expires  string    // AMQP expiration property (milliseconds), "" for none
}

// inflight is a message handed to the broker, waiting for its confirm.
type inflight struct {
	m  *outgoing
	dc *amqp.DeferredConfirmation
}

// Publish queues body for queue on the default exchange and returns at once. done (may be
// nil) is called exactly once, from a transport goroutine: nil when the broker confirmed the
// message; bridge.ErrNoQueue when queue does not exist (messages are published mandatory
// and the broker returns them); ErrNacked, ErrConfirmTimeout, bridge.ErrConnectionLost or
// bridge.ErrClosed otherwise (or the reason the headers cannot be encoded). done must not
// block. body and h must not be modified after the call. Messages are transient (delivery
// mode 1) and carry no properties but the headers.
//
// While the connection is down the message is held and published after the reconnect; if
// that has not happened within the confirm timeout (from this call), done gets
// bridge.ErrConnectionLost. A message published but not confirmed when the connection
// dropped also gets bridge.ErrConnectionLost: the broker may or may not have it.
func (t *Transport) Publish(queue string, body []byte, h wire.Headers, done func(error)) {
	t.PublishExpiring(queue, body, h, 0, done)
}

// PublishExpiring is Publish with the AMQP expiration property: when ttl is positive the
// broker drops the message if it has not been delivered within ttl (rounded up to a
// millisecond).
func (t *Transport) PublishExpiring(queue string, body []byte, h wire.Headers, ttl time.Duration, done func(error)) {
	if done == nil {
		done = func(error) {}
	}
	m := &outgoing{queue: queue, body: body, headers: h, done: done, deadline: time.Now().Add(t.opts.confirmTimeout)}
	if ttl > 0 {
		m.expires = strconv.FormatInt(int64((ttl+time.Millisecond-1)/time.Millisecond), 10)
	}
	t.mu.Lock()
	var err error
	switch {
	case t.closed:
		err = bridge.ErrClosed
	case t.dead != nil:
		err = t.dead
	default:
		t.pending = append(t.pending, m)
	}
	t.mu.Unlock()
	if err != nil {
		done(err)
		return
	}
	select {
	case t.pubSignal <- struct{}{}:
	default:
	}
}

// takePending hands the queued messages to the publisher.
func (t *Transport) takePending() []*outgoing {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := t.pending
	t.pending = nil
	return p
}

// requeue puts messages the publisher took but did not publish back at the head of the
// queue, in order.
func (t *Transport) requeue(ms []*outgoing) {
	if len(ms) == 0 {
		return
	}
	t.mu.Lock()
	t.pending = append(ms[:len(ms):len(ms)], t.pending...)
	t.mu.Unlock()
}

// publisher is the publisher goroutine. It publishes what Publish queued on the current
// link's publishing channel (it is the only goroutine that publishes there), holds the
// queue while there is no link, and fails it when the transport closes or dies.
func (t *Transport) publisher() {
	defer t.wg.Done()
	defer close(t.pubExited)
	for {
		l, err := t.publishLink()
		if err != nil {
			fail(t.takePending(), err)
			return
		}
		t.publishOn(l)
	}
}

// publishLink waits for a link to publish on. Meanwhile it fails the held messages whose
// deadline passes with bridge.ErrConnectionLost. It returns bridge.ErrClosed or the final
// loss when there will be no link.
func (t *Transport) publishLink() (*link, error) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		t.mu.Lock()
		l, changed, err := t.linkLocked()
		if l != nil || err != nil {
			t.mu.Unlock()
			return l, err
		}
		// pending is in deadline order: Publish appends, requeue puts older ones in front.
		n := 0
		for n < len(t.pending) && !now.Before(t.pending[n].deadline) {
			n++
		}
		expired := t.pending[:n:n]
		t.pending = t.pending[n:]
		var next time.Time
		if len(t.pending) > 0 {
			next = t.pending[0].deadline
		}
		t.mu.Unlock()

		for _, m := range expired {
			m.done(t.heldTooLong(m))
		}
		timer.Stop()
		var wake <-chan time.Time
		if !next.IsZero() {
			timer.Reset(time.Until(next))
			wake = timer.C
		}
		select {
		case <-changed:
		case <-t.closing:
		case <-wake:
		case <-t.pubSignal:
		}
	}
}

func (t *Transport) heldTooLong(m *outgoing) error {
	return fmt.Errorf("%w: %s not published: no connection to RabbitMQ at %s within %v", bridge.ErrConnectionLost, m.queue, t.addr, t.opts.confirmTimeout)
}

// publishOn publishes the queue on l without waiting for confirms and hands each deferred
// confirmation to l's confirmer, in order, until l goes down or Close begins. What it has
// taken but not published goes back to the queue.
func (t *Transport) publishOn(l *link) {
	t.wg.Add(1)
	go t.confirmer(l)
	defer close(l.pubDone)
	for {
		batch := t.takePending()
		if len(batch) == 0 {
			select {
			case <-t.pubSignal:
				continue
			case <-l.down:
				return
			case <-t.closing:
				return
			}
		}
		for i, m := range batch {
			if t.stopped(l) {
				t.requeue(batch[i:])
				return
			}
			if time.Now().After(m.deadline) {
				if m.deadline.Before(l.readyAt.Add(t.opts.confirmTimeout)) { // held for l
					m.done(t.heldTooLong(m))
				} else {
					m.done(fmt.Errorf("%w: %s waited %v in the publish queue", ErrConfirmTimeout, m.queue, t.opts.confirmTimeout))
				}
				continue
			}
			headers := table(m.headers)
			if err := headers.Validate(); err != nil {
				m.done(fmt.Errorf("publishing to %s: headers: %w", m.queue, err))
				continue
			}
			dc, err := l.pubCh.PublishWithDeferredConfirm("", m.queue, true, false, amqp.Publishing{
				Headers:      headers,
				DeliveryMode: amqp.Transient,
				Expiration:   m.expires,
				Body:         m.body,
			})
			if err != nil {
				// With valid headers only a broken channel or connection fails a publish; the
				// message was not sent and goes out again on the next link.
				t.publishFailed(l, err)
				t.requeue(batch[i:])
				return
			}
			l.push(inflight{m: m, dc: dc})
		}
	}
}

// publishFailed takes l down after a failed publish. amqp091 shuts the connection down
// on write errors and the watcher then records the broker's reason, which says more, so
// it waits for that first.
func (t *Transport) publishFailed(l *link, err error) {
	grace := time.NewTimer(time.Second)
	defer grace.Stop()
	select {
	case <-l.down:
		return
	case <-grace.C:
	}
	t.linkDown(l, fmt.Errorf("publish failed: %w", err))
	_ = l.conn.CloseDeadline(time.Now().Add(closeTimeout))
}

// stopped reports whether the publisher must leave l.
func (t *Transport) stopped(l *link) bool {
	select {
	case <-t.closing:
		return true
	case <-l.down:
		return true
	default:
		return false
	}
}

func fail(ms []*outgoing, err error) {
	for _, m := range ms {
		m.done(err)
	}
}

func (l *link) push(f inflight) {
	l.mu.Lock()
	l.inflight = append(l.inflight, f)
	l.mu.Unlock()
	select {
	case l.flSignal <- struct{}{}:
	default:
	}
}

// returned holds the messages the broker returned that no confirm has claimed yet, in
// the order they came back.
//
// RabbitMQ sends basic.return for an unroutable mandatory message before its basic.ack,
// and amqp091's reader hands both over in that order, the return into a buffered
// channel. So when a confirm is seen, the return of its message, if any, is already in
// r.ch: take drains it and matches the oldest return with the message by queue and body.
// A return found at the head belongs to this message or to a later one (whose publish the
// broker handled before this confirm went out); never to an earlier one, whose confirm
// already claimed it.
type returned struct {
	ch      <-chan amqp.Return
	pending []amqp.Return
}

func (r *returned) add(ret amqp.Return, ok bool) {
	if !ok {
		r.ch = nil // the channel closed with its link
		return
	}
	r.pending = append(r.pending, ret)
}

// take reports whether m came back, and forgets its return.
func (r *returned) take(m *outgoing) bool {
	for r.ch != nil {
		select {
		case ret, ok := <-r.ch:
			r.add(ret, ok)
			continue
		default:
		}
		break
	}
	if len(r.pending) == 0 {
		return false
	}
	head := r.pending[0]
	if head.RoutingKey != m.queue || !bytes.Equal(head.Body, m.body) {
		return false
	}
	r.pending[0] = amqp.Return{}
	r.pending = r.pending[1:]
	return true
}

// takeInflight waits for published messages, keeping returns flowing meanwhile; ok is
// false once the publisher has left l and everything it published on l has been taken.
func (l *link) takeInflight(r *returned) (batch []inflight, ok bool) {
	for {
		l.mu.Lock()
		batch, l.inflight = l.inflight, nil
		l.mu.Unlock()
		if len(batch) > 0 {
			return batch, true
		}
		select {
		case ret, ok := <-r.ch:
			r.add(ret, ok)
		case <-l.flSignal:
		case <-l.pubDone:
			l.mu.Lock()
			batch, l.inflight = l.inflight, nil
			l.mu.Unlock()
			return batch, len(batch) > 0
		}
	}
}

// confirmer is the confirmer goroutine of l. It settles published messages in publish
// order: ack → done(nil); nack → ErrNacked; no confirm by the deadline → ErrConfirmTimeout;
// channel gone → the link's loss error (bridge.ErrConnectionLost, or bridge.ErrClosed).
// Deferred confirmations of a closed channel resolve as not acked, so it never waits past
// a deadline or a lost connection. It ends once the publisher has left l and everything
// published on l is settled.
func (t *Transport) confirmer(l *link) {
	defer t.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	r := returned{ch: l.returns}
	for {
		batch, ok := l.takeInflight(&r)
		if !ok {
			return
		}
		for _, f := range batch {
			if !resolved(f.dc) {
				timer.Reset(time.Until(f.m.deadline))
				timedOut := false
				for !timedOut && !resolved(f.dc) {
					select {
					case <-f.dc.Done():
					case ret, ok := <-r.ch:
						r.add(ret, ok)
					case <-timer.C:
						timedOut = true
					}
				}
				timer.Stop()
				if timedOut {
					r.take(f.m)
					f.m.done(fmt.Errorf("%w: %s not confirmed within %v", ErrConfirmTimeout, f.m.queue, t.opts.confirmTimeout))
					continue
				}
			}
			back := r.take(f.m)
			switch {
			case f.dc.Acked() && back:
				f.m.done(fmt.Errorf("%w: %s (the broker returned the message)", bridge.ErrNoQueue, f.m.queue))
			case f.dc.Acked():
				f.m.done(nil)
			case l.pubCh.IsClosed() || l.conn.IsClosed():
				<-l.down
				f.m.done(l.lossErr)
			default:
				f.m.done(fmt.Errorf("%w: %s", ErrNacked, f.m.queue))
			}
		}
	}
}

func resolved(dc *amqp.DeferredConfirmation) bool {
	select {
	case <-dc.Done():
		return true
	default:
		return false
	}
}

// table converts headers for amqp091, which accepts only amqp.Table for nested tables.
// Flat headers are passed without copying.
func table(h wire.Headers) amqp.Table {
	if h == nil {
		return nil
	}
	for _, v := range h {
		switch v.(type) {
		case wire.Headers, map[string]any, []any:
			t := make(amqp.Table, len(h))
			for k, v := range h {
				t[k] = field(v)
			}
			return t
		}
	}
	return amqp.Table(h)
}

func field(v any) any {
	switch x := v.(type) {
	case wire.Headers:
		return table(x)
	case map[string]any:
		return table(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = field(e)
		}
		return out
	default:
		return v
	}
}
