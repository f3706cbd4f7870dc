package amqpbridge

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/at-technology/atqueue/bridge"
)

// keep is the keeper goroutine: each time the current link goes down it redials, with
// backoff, until a new link is set up or Close begins. It runs only when reconnection is
// enabled.
func (t *Transport) keep(l *link) {
	defer t.wg.Done()
	for {
		select {
		case <-l.down:
		case <-t.closing:
			return
		}
		if l = t.redial(l.lossErr); l == nil {
			return
		}
	}
}

// redial dials until a new link is up and set up; nil when Close began first.
func (t *Transport) redial(cause error) *link {
	since := time.Now()
	last := cause
	for attempt := 1; ; attempt++ {
		delay := max(t.opts.reconnect.Delay(attempt), minRedialDelay)
		t.log.Warn("reconnecting to RabbitMQ", "attempt", attempt, "delay", delay, "err", last)
		if !t.sleep(delay) {
			return nil
		}
		l, err := t.redialOnce()
		switch {
		case err == nil:
			t.log.Info("reconnected to RabbitMQ", "attempts", attempt, "down", time.Since(since).Round(time.Millisecond))
			return l
		case errors.Is(err, bridge.ErrClosed):
			return nil
		}
		last = err
	}
}

// sleep waits d; false when Close began first.
func (t *Transport) sleep(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-t.closing:
		return false
	}
}

// redialOnce opens a new link within redialTimeout (Close aborts it), makes it t.link,
// redeclares the remembered sessions, resumes every live subscription on it and then
// marks it ready, which wakes the publisher and everyone waiting for a connection.
func (t *Transport) redialOnce() (*link, error) {
	ctx, cancel := context.WithTimeout(context.Background(), redialTimeout)
	defer cancel()
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, bridge.ErrClosed
	}
	t.abortDial = cancel
	t.mu.Unlock()

	l, err := t.connect(ctx, t.rawURL, t.uri)

	t.mu.Lock()
	t.abortDial = nil
	closed := t.closed
	if err == nil && !closed {
		t.link, t.ready = l, false
	}
	t.mu.Unlock()
	switch {
	case closed:
		if err == nil {
			_ = l.conn.CloseDeadline(time.Now().Add(closeTimeout))
		}
		return nil, bridge.ErrClosed
	case err != nil:
		return nil, err
	}
	// From here on Close sees l as t.link and closes it, which ends the setup.
	t.watchLink(l)
	if err := t.setup(l); err != nil {
		t.linkDown(l, err)
		_ = l.conn.CloseDeadline(time.Now().Add(closeTimeout))
		return nil, err
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, bridge.ErrClosed
	}
	l.readyAt = time.Now()
	t.ready = true
	t.signalLocked()
	t.mu.Unlock()
	t.notifyLink(true, nil)
	return l, nil
}

// setup redeclares the sessions declared so far and resumes the live subscriptions on l.
// It fails only when l goes down under it; other failures are logged and skipped.
func (t *Transport) setup(l *link) error {
	t.mu.Lock()
	sids := append([]string(nil), t.sids...)
	subs := make([]*subscription, 0, len(t.subs))
	for s := range t.subs {
		subs = append(subs, s)
	}
	t.mu.Unlock()

	for _, sid := range sids {
		if _, err := declareOn(t, context.Background(), l, t.declareSession(sid)); err != nil {
			if lerr := l.err(); lerr != nil {
				return fmt.Errorf("redeclaring session %s: %w", sid, lerr)
			}
			t.log.Error("could not redeclare the queues of a session after reconnecting", "session", sid, "err", err)
		}
	}
	for _, s := range subs {
		if err := t.bind(l, s); err != nil && !errors.Is(err, errCancelled) {
			if lerr := l.err(); lerr != nil {
				return fmt.Errorf("resuming consumer of %s: %w", s.queue, lerr)
			}
			if s.exclusive && errors.Is(err, bridge.ErrInUse) {
				s.lose(err)
				continue
			}
			t.log.Error("could not resume a consumer after reconnecting", "queue", s.queue, "consumer", s.tag, "err", err)
		}
	}
	return nil
}
