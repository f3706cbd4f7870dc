package amqpbridge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/wire"
	amqp "github.com/rabbitmq/amqp091-go"
)

var (
	_ bridge.Transport = (*Transport)(nil)
	_ bridge.Prober    = (*Transport)(nil)
	_ bridge.Expirer   = (*Transport)(nil)
)

const (
	// handshakeTimeout bounds TCP connect plus AMQP handshake when ctx has no earlier deadline.
	handshakeTimeout = 30 * time.Second
	// closeTimeout bounds each step of Close that waits on the broker.
	closeTimeout = 5 * time.Second
	// maxPrefetch is the largest prefetch count basic.qos can carry.
	maxPrefetch = 1<<16 - 1
)

// Transport is a bridge.Transport (and bridge.Prober, bridge.Expirer) over one AMQP
// connection. Its methods are safe for concurrent use. Publish never waits on the network;
// DeclareSession, Consumers and Consume wait at most until their ctx ends; Cancel, Close and
// settling a delivery (one frame written) may wait on the broker.
type Transport struct {
	opts options
	log  *slog.Logger
	addr string // host:port, for messages

	pubSignal chan struct{} // size 1: pending has grown
	declSem   chan struct{} // size 1: held while using a link's declare channel
	closing   chan struct{} // closed when Close begins
	closeDone chan struct{} // closed when Close has finished
	tags      atomic.Uint64

	mu      sync.Mutex
	closed  bool
	link    *link
	pending []*outgoing                // accepted by Publish, not yet handed to the broker
	subs    map[*subscription]struct{} // live subscriptions

	wg sync.WaitGroup // every goroutine the transport owns
}

// link is one AMQP connection with the channels the transport keeps on it. A reconnect
// loop replaces t.link with a new one; everything tied to one connection lives here.
type link struct {
	conn   *amqp.Connection
	declCh *amqp.Channel // used with t.declSem held; nil until needed or after an error
	pubCh  *amqp.Channel // in confirm mode; only the publisher goroutine publishes on it

	down     chan struct{} // closed when the connection is gone (or Close began)
	downOnce sync.Once
	lossErr  error // set before down is closed

	pubDone chan struct{} // closed when the publisher goroutine has exited

	mu       sync.Mutex
	inflight []inflight    // published, waiting for the confirm
	flSignal chan struct{} // size 1: inflight has grown
}

// start launches the goroutines of a link: watcher, publisher and confirmer.
func (t *Transport) start(l *link) {
	connClosed := l.conn.NotifyClose(make(chan *amqp.Error, 1))
	blocked := l.conn.NotifyBlocked(make(chan amqp.Blocking, 16))
	pubClosed := l.pubCh.NotifyClose(make(chan *amqp.Error, 1))
	t.wg.Add(3)
	go t.watch(l, connClosed, pubClosed, blocked)
	go t.publisher(l)
	go t.confirmer(l)
}

// watch drains the connection's notifications until they are closed and takes the link
// down when the connection or its publishing channel fails.
func (t *Transport) watch(l *link, connClosed, pubClosed chan *amqp.Error, blocked chan amqp.Blocking) {
	defer t.wg.Done()
	for connClosed != nil || blocked != nil {
		select {
		case err, ok := <-connClosed:
			if !ok {
				connClosed = nil
				t.linkDown(l, errors.New("connection closed"))
				continue
			}
			t.linkDown(l, err)
		case err, ok := <-pubClosed:
			if !ok {
				pubClosed = nil
				continue
			}
			if err != nil && !l.conn.IsClosed() {
				t.linkDown(l, fmt.Errorf("publishing channel closed: %w", err))
				_ = l.conn.CloseDeadline(time.Now().Add(closeTimeout))
			}
		case b, ok := <-blocked:
			switch {
			case !ok:
				blocked = nil
			case b.Active:
				t.log.Warn("RabbitMQ blocked the connection; publishing waits", "reason", b.Reason)
			default:
				t.log.Info("RabbitMQ unblocked the connection")
			}
		}
	}
}

// linkDown marks l as gone; the first reason wins. Work waiting on l ends with
// bridge.ErrConnectionLost, or bridge.ErrClosed when Close caused it.
func (t *Transport) linkDown(l *link, reason error) {
	l.downOnce.Do(func() {
		select {
		case <-t.closing:
			l.lossErr = bridge.ErrClosed
		default:
			l.lossErr = fmt.Errorf("%w: %v", bridge.ErrConnectionLost, reason)
			t.log.Error("lost the connection to RabbitMQ", "err", reason)
		}
		close(l.down)
	})
}

// err reports why l is unusable, or nil while it is up.
func (l *link) err() error {
	select {
	case <-l.down:
		return l.lossErr
	default:
		return nil
	}
}

// current returns the link to use, or why there is none.
func (t *Transport) current() (*link, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, bridge.ErrClosed
	}
	if err := t.link.err(); err != nil {
		return nil, err
	}
	return t.link, nil
}

// channel opens a channel on l; every channel of the transport is opened here.
func (l *link) channel(confirm bool) (*amqp.Channel, error) {
	ch, err := l.conn.Channel()
	if err != nil {
		return nil, err
	}
	if confirm {
		if err := ch.Confirm(false); err != nil {
			_ = ch.Close()
			return nil, err
		}
	}
	return ch, nil
}

// opError wraps an error of an operation on l (op may be ""), as the loss of the
// connection when l went down.
func (l *link) opError(op string, err error) error {
	if l.conn.IsClosed() {
		<-l.down // the watcher is about to record the reason
		err = l.lossErr
	}
	if op == "" {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

// DeclareSession declares send-<sid> and recieve-<sid>: durable, not exclusive, not
// auto-deleted, no arguments. Declaring existing queues with these flags is a no-op; queues
// that exist with other flags fail with PRECONDITION_FAILED (the error says so).
func (t *Transport) DeclareSession(ctx context.Context, sid string) error {
	return t.onDeclareChannel(ctx, func(ch *amqp.Channel) error {
		for _, q := range []string{wire.SendQueue(sid), wire.RecieveQueue(sid)} {
			if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
				return fmt.Errorf("declaring queue %s: %w", q, err)
			}
		}
		return nil
	})
}

// Consumers returns the number of consumers of queue (a passive declare); a queue that
// does not exist fails with bridge.ErrNoQueue.
func (t *Transport) Consumers(ctx context.Context, queue string) (int, error) {
	var n int
	err := t.onDeclareChannel(ctx, func(ch *amqp.Channel) error {
		q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
		if err != nil {
			var amqpErr *amqp.Error
			if errors.As(err, &amqpErr) && amqpErr.Code == amqp.NotFound {
				return fmt.Errorf("%w: %s", bridge.ErrNoQueue, queue)
			}
			return fmt.Errorf("inspecting queue %s: %w", queue, err)
		}
		n = q.Consumers
		return nil
	})
	return n, err
}

// onDeclareChannel runs fn with the declare channel of the current link, one caller at a
// time, within ctx. A channel that an error closed is replaced on the next call.
func (t *Transport) onDeclareChannel(ctx context.Context, fn func(*amqp.Channel) error) error {
	l, err := t.current()
	if err != nil {
		return err
	}
	_, err = run(t, ctx, func() (struct{}, error) {
		select {
		case t.declSem <- struct{}{}:
		case <-ctx.Done():
			return struct{}{}, ctx.Err()
		case <-l.down:
			return struct{}{}, l.lossErr
		}
		defer func() { <-t.declSem }()
		if l.declCh == nil || l.declCh.IsClosed() {
			ch, err := l.channel(false)
			if err != nil {
				return struct{}{}, l.opError("opening the declare channel", err)
			}
			l.declCh = ch
		}
		if err := fn(l.declCh); err != nil {
			if errors.Is(err, bridge.ErrNoQueue) {
				return struct{}{}, err
			}
			return struct{}{}, l.opError("", err)
		}
		return struct{}{}, nil
	}, nil)
	return err
}

// run calls fn on a goroutine the transport owns and waits for its result within ctx.
// When ctx ends first, run returns ctx.Err() and undo (may be nil) receives fn's value
// once fn succeeds, to release it.
func run[T any](t *Transport, ctx context.Context, fn func() (T, error), undo func(T)) (T, error) {
	type result struct {
		v   T
		err error
	}
	var (
		zero      T
		mu        sync.Mutex
		abandoned bool
		res       = make(chan result, 1)
	)
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	started := t.spawn(func() {
		v, err := fn()
		mu.Lock()
		if !abandoned {
			res <- result{v, err}
			mu.Unlock()
			return
		}
		mu.Unlock()
		if err == nil && undo != nil {
			undo(v)
		}
	})
	if !started {
		return zero, bridge.ErrClosed
	}
	select {
	case r := <-res:
		return r.v, r.err
	case <-ctx.Done():
		mu.Lock()
		abandoned = true
		mu.Unlock()
		select {
		case r := <-res: // fn finished first after all; its result is ours
			return r.v, r.err
		default:
			return zero, ctx.Err()
		}
	}
}

// spawn starts f on a goroutine the transport owns; it reports false once Close has begun.
func (t *Transport) spawn(f func()) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		f()
	}()
	return true
}

// Close stops publishing (done(bridge.ErrClosed) for what the broker has not confirmed),
// ends every consumer (RabbitMQ requeues their unacknowledged deliveries), closes the
// connection and waits for every goroutine of the transport. It is idempotent; later
// calls wait for the first to finish and return nil.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		<-t.closeDone
		return nil
	}
	t.closed = true
	close(t.closing)
	l := t.link
	t.mu.Unlock()
	defer close(t.closeDone)

	// The publisher stops between two messages; a connection the broker has blocked never
	// finishes the current one, so the wait is bounded.
	wait := time.NewTimer(closeTimeout)
	select {
	case <-l.pubDone:
	case <-wait.C:
		t.log.Warn("publisher still busy on close; closing the connection under it")
	}
	wait.Stop()
	err := l.conn.CloseDeadline(time.Now().Add(closeTimeout))
	t.linkDown(l, errors.New("transport closed"))
	t.wg.Wait()
	if err != nil && !errors.Is(err, amqp.ErrClosed) {
		return fmt.Errorf("closing the connection to RabbitMQ at %s: %w", t.addr, err)
	}
	t.log.Info("closed the connection to RabbitMQ")
	return nil
}
