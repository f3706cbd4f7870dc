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
	_ bridge.Transport      = (*Transport)(nil)
	_ bridge.Prober         = (*Transport)(nil)
	_ bridge.SessionAdopter = (*Transport)(nil)
	_ bridge.SharedConsumer = (*Transport)(nil)
	_ bridge.Expirer        = (*Transport)(nil)
	_ bridge.Connectivity   = (*Transport)(nil)
	_ bridge.Drainer        = (*Transport)(nil)
	_ bridge.LinkNotifier   = (*Transport)(nil)
	_ bridge.ReturnNotifier = (*Transport)(nil)
	_ bridge.Forwarder      = acker{}
	_ bridge.Deleter        = (*Transport)(nil)
	_ bridge.Broker         = (*Broker)(nil)
)

// Broker is RabbitMQ at one URL, for a bridge to connect to: each Connect dials a new
// Transport with the Broker's options.
type Broker struct {
	url  string
	opts []Option
}

// NewBroker returns the broker at rawURL (amqp://user:password@host:port/vhost); nothing
// is dialled until a bridge connects.
func NewBroker(rawURL string, opts ...Option) *Broker { return &Broker{url: rawURL, opts: opts} }

// Connect dials the broker (see Dial).
func (b *Broker) Connect(ctx context.Context) (bridge.Transport, error) {
	return Dial(ctx, b.url, b.opts...)
}

// URL is the broker's URL as given (password included).
func (b *Broker) URL() string { return b.url }

const (
	// handshakeTimeout bounds TCP connect plus AMQP handshake when ctx has no earlier deadline.
	handshakeTimeout = 30 * time.Second
	// closeTimeout bounds each step of Close that waits on the broker.
	closeTimeout = 5 * time.Second
	// maxPrefetch is the largest prefetch count basic.qos can carry.
	maxPrefetch = 1<<16 - 1
	// redialTimeout bounds one redial: TCP connect, AMQP handshake, publishing channel.
	redialTimeout = 10 * time.Second
	// minRedialDelay keeps a zero backoff from spinning on a refused connection.
	minRedialDelay = 10 * time.Millisecond
	// returnBuffer lets amqp091's reader hand over returned messages without waiting for
	// the confirmer, which drains them while it waits for confirms.
	returnBuffer = 256
)

// Transport is a bridge.Transport (and bridge.Prober, bridge.Expirer, bridge.Connectivity)
// over one AMQP connection at a time: when the connection is lost it redials by itself (see
// WithReconnect). Its methods are safe for concurrent use. Publish never waits on the
// network; DeclareSession, Consumers and Consume wait at most until their ctx ends (also for
// a lost connection to come back); Cancel, Close and settling a delivery (one frame
// written) may wait on the broker.
type Transport struct {
	opts   options
	log    *slog.Logger
	addr   string // host:port, for messages
	rawURL string // for redials
	uri    amqp.URI

	pubSignal chan struct{} // size 1: pending has grown
	pubExited chan struct{} // closed when the publisher goroutine has returned
	declSem   chan struct{} // size declareChannels: held while using one of a link's declare channels
	closing   chan struct{} // closed when Close begins
	closeDone chan struct{} // closed when Close has finished
	tags      atomic.Uint64

	mu        sync.Mutex
	closed    bool
	link      *link              // the newest link: up, being set up, or down
	ready     bool               // link is set up: sessions redeclared, consumers resumed
	dead      error              // set when a loss is final (reconnection disabled)
	changed   chan struct{}      // closed and replaced when link becomes ready or dead is set
	abortDial context.CancelFunc // ends the redial in progress; nil when none
	pending   []*outgoing        // accepted by Publish, not yet handed to the broker
	subs      map[*subscription]struct{}
	sids      []string // sessions declared, in order, redeclared after a reconnect
	sidSet    map[string]struct{}
	found     *bool // durable flag of the registry's queues, once seen (see followDeployment)
	onLink    func(up bool, reason error)
	onReturn  func(queue string, m bridge.Message)
	counted   map[string]counted // consumer counts of recent declares (noteConsumers)
	recounts  atomic.Int64       // passive declares sharedChannel made to count consumers
	drainGot  func(taken int)    // tests only: called by Drain after each message it gets

	wg sync.WaitGroup // every goroutine the transport owns
}

// link is one AMQP connection with the channels the transport keeps on it. The keeper
// replaces t.link with a new one after a loss; everything tied to one connection lives here.
type link struct {
	conn *amqp.Connection
	// declChs are the declare channels not in use (at most declareChannels, one per
	// holder of t.declSem); a holder takes one, or opens one, and gives it back if it
	// is still open.
	declMu  sync.Mutex
	declChs []*amqp.Channel
	pubCh   *amqp.Channel // in confirm mode; only the publisher goroutine publishes on it
	// shared are the channels of the shared consumers, by prefetch and shard (sharedChannel).
	sharedMu sync.Mutex
	shared   map[sharedKey]*sharedChan
	// returns carries the messages the broker could not route (published mandatory, to a
	// queue that does not exist); only the confirmer reads it.
	returns <-chan amqp.Return

	down     chan struct{} // closed when the connection is gone (or Close began)
	downOnce sync.Once
	lossErr  error // set before down is closed

	pubDone chan struct{} // closed when the publisher has stopped publishing on this link
	readyAt time.Time     // when it was set up; written before it is marked ready

	mu       sync.Mutex
	inflight []inflight    // published, waiting for the confirm
	flSignal chan struct{} // size 1: inflight has grown
}

// NotifyLink registers f, called from a transport goroutine when the connection is lost
// (up=false, with the reason) and when a new one is set up (up=true). f must not block.
func (t *Transport) NotifyLink(f func(up bool, reason error)) {
	t.mu.Lock()
	t.onLink = f
	t.mu.Unlock()
}

// NotifyReturn registers f, called from a transport goroutine with each forwarded
// message (acker.Forward) that the broker returned because its queue does not exist.
// f must not block.
func (t *Transport) NotifyReturn(f func(queue string, m bridge.Message)) {
	t.mu.Lock()
	t.onReturn = f
	t.mu.Unlock()
}

// returned hands the messages returned on a shared channel to the NotifyReturn callback,
// until the channel closes.
func (t *Transport) returned(rets <-chan amqp.Return) {
	for r := range rets {
		t.mu.Lock()
		f := t.onReturn
		t.mu.Unlock()
		if f == nil {
			t.log.Warn("the broker returned a forwarded message: no such queue", "queue", r.RoutingKey)
			continue
		}
		f(r.RoutingKey, bridge.Message{Body: r.Body, Headers: wire.Headers(r.Headers)})
	}
}

// notifyLink calls the NotifyLink callback, if any.
func (t *Transport) notifyLink(up bool, reason error) {
	t.mu.Lock()
	f := t.onLink
	t.mu.Unlock()
	if f != nil {
		f(up, reason)
	}
}

// reconnects reports whether a lost connection is redialled.
func (t *Transport) reconnects() bool { return t.opts.reconnect.Max > 0 }

// watchLink starts the watcher of l.
func (t *Transport) watchLink(l *link) {
	connClosed := l.conn.NotifyClose(make(chan *amqp.Error, 1))
	blocked := l.conn.NotifyBlocked(make(chan amqp.Blocking, 16))
	pubClosed := l.pubCh.NotifyClose(make(chan *amqp.Error, 1))
	t.wg.Add(1)
	go t.watch(l, connClosed, pubClosed, blocked)
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
// bridge.ErrConnectionLost, or bridge.ErrClosed when Close caused it. Without reconnection
// the loss is final: it is recorded as t.dead before l.down is closed, so that whoever sees
// l down also sees the transport dead.
func (t *Transport) linkDown(l *link, reason error) {
	l.downOnce.Do(func() {
		select {
		case <-t.closing:
			l.lossErr = bridge.ErrClosed
		default:
			l.lossErr = fmt.Errorf("%w: %v", bridge.ErrConnectionLost, reason)
			t.log.Error("lost the connection to RabbitMQ", "err", reason)
			defer t.notifyLink(false, l.lossErr)
			if !t.reconnects() {
				t.mu.Lock()
				if t.link == l && t.dead == nil {
					t.dead = l.lossErr
					t.signalLocked()
				}
				t.mu.Unlock()
			}
		}
		close(l.down)
	})
}

// signalLocked wakes everyone waiting for the link to change. t.mu must be held.
func (t *Transport) signalLocked() {
	close(t.changed)
	t.changed = make(chan struct{})
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

// usableLocked returns the link to use now, or nil. t.mu must be held.
func (t *Transport) usableLocked() *link {
	if t.closed || t.dead != nil || !t.ready || t.link.err() != nil {
		return nil
	}
	return t.link
}

// Connected reports whether the transport has a connection set up and not known to be
// lost. It is a snapshot; bridge.Publish.FailFast uses it.
func (t *Transport) Connected() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.usableLocked() != nil
}

// linkLocked returns the link to use now, or the error that means there will be none
// (bridge.ErrClosed, or the final loss), or neither and the channel closed at the next
// change of link. The caller holds t.mu.
func (t *Transport) linkLocked() (*link, <-chan struct{}, error) {
	switch {
	case t.closed:
		return nil, nil, bridge.ErrClosed
	case t.dead != nil:
		return nil, nil, t.dead
	}
	if l := t.usableLocked(); l != nil {
		return l, nil, nil
	}
	return nil, t.changed, nil
}

// waitLink returns the link to use, waiting within ctx while the connection is being
// restored. It fails with bridge.ErrClosed, the final loss, or an error that matches both
// bridge.ErrConnectionLost and ctx.Err() when ctx ends first.
func (t *Transport) waitLink(ctx context.Context) (*link, error) {
	for {
		t.mu.Lock()
		l, changed, err := t.linkLocked()
		t.mu.Unlock()
		if l != nil || err != nil {
			return l, err
		}
		select {
		case <-changed:
		case <-t.closing:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: waiting for RabbitMQ at %s to come back: %w", bridge.ErrConnectionLost, t.addr, ctx.Err())
		}
	}
}

// retryable reports whether an operation on l that failed with err may be tried again on
// the next link: l went down under it and the transport reconnects.
func (t *Transport) retryable(ctx context.Context, l *link, err error) bool {
	return t.reconnects() && errors.Is(err, bridge.ErrConnectionLost) && l.err() != nil && ctx.Err() == nil
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

// DeclareSession makes send-<sid> and recieve-<sid> exist. A queue that exists already is
// adopted with the flags it has: at_queue before commit 6ddd4b0 declares these queues
// non-durable, later versions durable, and RabbitMQ refuses to declare a queue again with
// other flags. A missing queue is declared not exclusive, not auto-deleted, without
// arguments, and durable or not as WithDurable says (by default as the registry's queues
// are, see WithDurable). The transport remembers sid and declares its
// queues again after every reconnect.
func (t *Transport) DeclareSession(ctx context.Context, sid string) error {
	if _, err := onDeclare(t, ctx, t.declareSession(sid)); err != nil {
		return err
	}
	t.AdoptSession(sid)
	return nil
}

// AdoptSession keeps sid among the sessions declared again after a reconnect, as
// DeclareSession does, without declaring its queues now: for a pair its owner declared.
func (t *Transport) AdoptSession(sid string) {
	t.mu.Lock()
	if _, ok := t.sidSet[sid]; !ok {
		t.sidSet[sid] = struct{}{}
		t.sids = append(t.sids, sid)
	}
	t.mu.Unlock()
}

// sessionOf returns the declared session whose queue queue is.
func (t *Transport) sessionOf(queue string) (string, bool) {
	sid, _, ok := wire.ParseQueue(queue)
	if !ok {
		return "", false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	_, ok = t.sidSet[sid]
	return sid, ok
}

// declChan returns the open declare channel of a link, opening a new one when an error
// closed the last; it is only called with t.declSem held.
type declChan func() (*amqp.Channel, error)

// none is the result of declare-channel work that has nothing to return but its error.
type none = struct{}

func (t *Transport) declareSession(sid string) func(declChan) (none, error) {
	return func(ch declChan) (none, error) {
		for _, q := range []string{wire.SendQueue(sid), wire.RecieveQueue(sid)} {
			existed, decl, err := t.declareQueue(ch, q)
			if err != nil {
				return none{}, err
			}
			t.noteConsumers(q, decl.Consumers)
			switch {
			case sid != wire.RegistrySession:
			case existed:
				t.followDeployment(ch, q)
			default: // created here: the deployment is what this process makes it
				durable := t.durable()
				t.mu.Lock()
				if t.found == nil {
					t.found = &durable
				}
				t.mu.Unlock()
			}
		}
		return none{}, nil
	}
}

// durable is the durable flag for the queues the transport creates: WithDurable's, else
// the one found on the registry's queues, else true.
func (t *Transport) durable() bool {
	if t.opts.durable != nil {
		return *t.opts.durable
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.found != nil {
		return *t.found
	}
	return true
}

// followDeployment learns, once, whether the registry's queue q that exists is durable,
// so that the queues this transport creates match the at_queue version of the deployment.
// A passive declare cannot tell; a declare with durable=true succeeds on a durable queue
// and is refused (closing the channel) on a non-durable one.
func (t *Transport) followDeployment(get declChan, q string) {
	t.mu.Lock()
	known := t.found != nil
	t.mu.Unlock()
	if known {
		return
	}
	ch, err := get()
	if err != nil {
		return
	}
	_, err = ch.QueueDeclare(q, true, false, false, false, nil)
	var durable bool
	switch {
	case err == nil:
		durable = true
	case amqpCode(err) == amqp.PreconditionFailed:
		durable = false
	default:
		return
	}
	t.mu.Lock()
	t.found = &durable
	t.mu.Unlock()
	if t.opts.durable != nil && *t.opts.durable != durable {
		t.log.Warn("the registry's queues exist with another durable flag than this process creates queues with; "+
			"components of the other at_queue version will be refused their queues", "queue", q, "found_durable", durable,
			"creates_durable", *t.opts.durable, "hint", DurabilityHint)
	} else {
		t.log.Info("following the deployment's queues", "durable", durable)
	}
}

// declareAttempts bounds the passive-declare/declare rounds of declareQueue: a round fails
// only when another client declares the queue between the two with other flags, and the
// next round adopts what it declared.
const declareAttempts = 3

// declareQueue adopts queue when it exists (a passive declare) and declares it with the
// default flags otherwise; existed tells which. Both failures it expects close the
// channel: NOT_FOUND for the passive declare, PRECONDITION_FAILED when another client won
// the race with other flags. Only the registry's queues need existed (to learn the
// deployment's durability from them); a component's queues are declared first and looked
// at passively only when RabbitMQ refuses the flags, which adopts them the same way in one
// round trip instead of two (and a channel) for a queue that is new or has our flags.
func (t *Transport) declareQueue(get declChan, queue string) (existed bool, q amqp.Queue, err error) {
	sid, _, _ := wire.ParseQueue(queue)
	for range declareAttempts {
		var ch *amqp.Channel
		if sid != wire.RegistrySession {
			if ch, err = get(); err != nil {
				return false, q, err
			}
			if q, err = ch.QueueDeclare(queue, t.durable(), false, false, false, nil); err == nil {
				return false, q, nil
			}
			if amqpCode(err) != amqp.PreconditionFailed {
				break
			}
		}
		if ch, err = get(); err != nil {
			return false, q, err
		}
		if q, err = ch.QueueDeclarePassive(queue, false, false, false, false, nil); err == nil {
			return true, q, nil
		}
		if amqpCode(err) != amqp.NotFound {
			break
		}
		if ch, err = get(); err != nil {
			return false, q, err
		}
		if q, err = ch.QueueDeclare(queue, t.durable(), false, false, false, nil); err == nil {
			return false, q, nil
		}
		if amqpCode(err) != amqp.PreconditionFailed {
			break
		}
	}
	return false, q, fmt.Errorf("declaring queue %s: %w", queue, withDurabilityHint(err))
}

// counted is a queue's consumer count as a declare of it found it.
type counted struct {
	consumers int
	at        time.Time
}

// countFresh is how long a declare's consumer count stands for a check of its own: an
// exclusive shared consumer started within it (a component consumes its queue right
// after it declared its pair) is spared a passive declare.
const countFresh = time.Second

// noteConsumers records the consumer count a declare of queue found.
func (t *Transport) noteConsumers(queue string, consumers int) {
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.counted == nil {
		t.counted = map[string]counted{}
	}
	if len(t.counted) >= 256 { // counts nobody took (a send- queue its owner does not consume)
		for q, c := range t.counted {
			if now.Sub(c.at) >= countFresh {
				delete(t.counted, q)
			}
		}
	}
	t.counted[queue] = counted{consumers: consumers, at: now}
}

// takeConsumers returns, and forgets, the consumer count a declare of queue found less
// than countFresh ago; ok is false when there is none.
func (t *Transport) takeConsumers(queue string) (consumers int, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, found := t.counted[queue]
	if !found {
		return 0, false
	}
	delete(t.counted, queue)
	return c.consumers, time.Since(c.at) < countFresh
}

// amqpCode is the reply code of an AMQP error, 0 for other errors.
func amqpCode(err error) int {
	var amqpErr *amqp.Error
	if errors.As(err, &amqpErr) {
		return amqpErr.Code
	}
	return 0
}

// Consumers returns the number of consumers of queue (a passive declare); a queue that
// does not exist fails with bridge.ErrNoQueue.
func (t *Transport) Consumers(ctx context.Context, queue string) (int, error) {
	n, _, err := t.Stat(ctx, queue)
	return n, err
}

// Stat returns the consumers of queue and the messages ready in it (a passive declare);
// a queue that does not exist fails with bridge.ErrNoQueue.
func (t *Transport) Stat(ctx context.Context, queue string) (consumers, messages int, err error) {
	q, err := onDeclare(t, ctx, func(get declChan) (amqp.Queue, error) {
		ch, err := get()
		if err != nil {
			return amqp.Queue{}, err
		}
		q, err := ch.QueueDeclarePassive(queue, false, false, false, false, nil)
		if err != nil {
			if amqpCode(err) == amqp.NotFound {
				return q, fmt.Errorf("%w: %s", bridge.ErrNoQueue, queue)
			}
			return q, fmt.Errorf("inspecting queue %s: %w", queue, err)
		}
		return q, nil
	})
	return q.Consumers, q.Messages, err
}

// Drain takes up to max messages off queue with basic.get, for a queue nobody consumes:
// one that does not exist fails with bridge.ErrNoQueue; one that has a consumer fails with
// bridge.ErrInUse, nothing taken. The consumers are counted with a passive declare before
// the first message and again after every drainRecount taken, which are acknowledged
// only then: a consumer that started meanwhile (its component came back) gets them,
// requeued, and the drain ends with ErrInUse. A channel or connection that fails
// meanwhile requeues what it had not acknowledged. With an error, what was taken and
// acknowledged before it is returned too.
func (t *Transport) Drain(ctx context.Context, queue string, max int) ([]bridge.Message, error) {
	// out outlives an attempt that a lost connection ends: what it acknowledged is
	// returned with what the next attempt takes.
	var out []bridge.Message
	_, err := onDeclare(t, ctx, func(get declChan) (none, error) {
		ch, err := get()
		if err != nil {
			return none{}, err
		}
		unconsumed := func() error {
			q, err := ch.QueueDeclarePassive(queue, false, false, false, false, nil)
			switch {
			case err != nil && amqpCode(err) == amqp.NotFound:
				return fmt.Errorf("%w: %s", bridge.ErrNoQueue, queue)
			case err != nil:
				return fmt.Errorf("draining queue %s: %w", queue, err)
			case q.Consumers > 0:
				return fmt.Errorf("%w: %s has %d consumers: its messages are theirs", bridge.ErrInUse, queue, q.Consumers)
			}
			return nil
		}
		if err := unconsumed(); err != nil {
			return none{}, err
		}
		for len(out) < max {
			var batch []amqp.Delivery
			// giveBack requeues the batch: a channel left open must not keep it (one
			// that an error closed has requeued it already).
			giveBack := func(err error) error {
				if len(batch) > 0 && !ch.IsClosed() {
					err = errors.Join(err, ch.Nack(batch[len(batch)-1].DeliveryTag, true, true))
				}
				return err
			}
			empty := false
			for len(batch) < drainRecount && len(out)+len(batch) < max {
				d, ok, err := ch.Get(queue, false)
				switch {
				case err != nil && amqpCode(err) == amqp.NotFound:
					return none{}, giveBack(fmt.Errorf("%w: %s", bridge.ErrNoQueue, queue))
				case err != nil:
					return none{}, giveBack(fmt.Errorf("draining queue %s: %w", queue, err))
				}
				if !ok {
					empty = true
					break
				}
				batch = append(batch, d)
				if t.drainGot != nil {
					t.drainGot(len(out) + len(batch))
				}
			}
			if len(batch) == 0 {
				return none{}, nil
			}
			if err := unconsumed(); err != nil {
				return none{}, giveBack(err)
			}
			if err := ch.Ack(batch[len(batch)-1].DeliveryTag, true); err != nil {
				return none{}, fmt.Errorf("draining queue %s: %w", queue, err)
			}
			for _, d := range batch {
				out = append(out, bridge.Message{Body: d.Body, Headers: wire.Headers(d.Headers)})
			}
			if empty {
				return none{}, nil
			}
		}
		return none{}, nil
	})
	return out, err
}

// drainRecount is how many messages Drain takes between two counts of the queue's
// consumers: a count is a round trip, and the messages taken since the last one are what
// a consumer that starts meanwhile gets back.
const drainRecount = 20

// DeleteSession deletes send-<sid> and recieve-<sid> where a queue is empty and has no
// consumer (queue.delete if-unused if-empty); RabbitMQ refuses the others, which stay.
func (t *Transport) DeleteSession(ctx context.Context, sid string) error {
	_, err := onDeclare(t, ctx, func(get declChan) (none, error) {
		var errs []error
		for _, q := range []string{wire.SendQueue(sid), wire.RecieveQueue(sid)} {
			ch, err := get()
			if err != nil {
				return none{}, err
			}
			_, err = ch.QueueDelete(q, true, true, false)
			switch amqpCode(err) {
			case 0:
				if err != nil {
					return none{}, err
				}
			case amqp.PreconditionFailed: // in use or not empty
				errs = append(errs, fmt.Errorf("%w: %s is not empty or has a consumer", bridge.ErrInUse, q))
			case amqp.NotFound:
			default:
				return none{}, fmt.Errorf("deleting queue %s: %w", q, err)
			}
		}
		return none{}, errors.Join(errs...)
	})
	return err
}

// declareChannels is how many declares, probes and drains of one transport run at once,
// each on its own channel: a queue.declare that creates a durable queue takes RabbitMQ a
// few milliseconds, and a burst of components registering would otherwise wait in line
// for one channel. 64 lets each of a burst's 64 registrations at once (atqbench's burst)
// declare without waiting for another's: with 8, 1,000 components registering on a fresh
// virtual host took 9.3-10.1 s, with 64 5.4-8.8 s (median 6.6). Channels are opened
// when a declare needs one and kept; a process that declares one queue at a time keeps
// one.
const declareChannels = 64

// onDeclare runs fn with a declare channel of the current link (at most declareChannels
// callers at a time), within ctx. While the connection is down it waits for the next one;
// when the link goes down under fn, fn runs again on the next link.
func onDeclare[T any](t *Transport, ctx context.Context, fn func(declChan) (T, error)) (T, error) {
	for {
		l, err := t.waitLink(ctx)
		if err != nil {
			var zero T
			return zero, err
		}
		v, err := run(t, ctx, func() (T, error) { return declareOn(t, ctx, l, fn) })
		if err != nil && t.retryable(ctx, l, err) {
			continue
		}
		return v, err
	}
}

// declareOn runs fn with one of l's declare channels while holding t.declSem. A channel
// that an error closed is replaced when fn asks for it again; one left closed is dropped.
func declareOn[T any](t *Transport, ctx context.Context, l *link, fn func(declChan) (T, error)) (T, error) {
	var zero T
	select {
	case t.declSem <- struct{}{}:
	case <-ctx.Done():
		return zero, ctx.Err()
	case <-l.down:
		return zero, l.lossErr
	case <-t.closing:
		return zero, bridge.ErrClosed
	}
	defer func() { <-t.declSem }()
	var ch *amqp.Channel
	l.declMu.Lock()
	if n := len(l.declChs); n > 0 {
		ch, l.declChs = l.declChs[n-1], l.declChs[:n-1]
	}
	l.declMu.Unlock()
	defer func() {
		if ch != nil && !ch.IsClosed() {
			l.declMu.Lock()
			l.declChs = append(l.declChs, ch)
			l.declMu.Unlock()
		}
	}()
	get := func() (*amqp.Channel, error) {
		if ch == nil || ch.IsClosed() {
			c, err := l.channel(false)
			if err != nil {
				return nil, l.opError("opening a declare channel", err)
			}
			ch = c
		}
		return ch, nil
	}
	v, err := fn(get)
	if err != nil && !errors.Is(err, bridge.ErrNoQueue) {
		err = l.opError("", err)
	}
	return v, err
}

// run calls fn on a goroutine the transport owns and waits for its result within ctx.
// When ctx ends first, run returns ctx.Err() and fn's result is dropped: fn must clean up
// after itself when nobody wants what it made. fn's result travels back on a channel, so
// fn must not write variables the caller reads.
func run[T any](t *Transport, ctx context.Context, fn func() (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	type result struct {
		v   T
		err error
	}
	res := make(chan result, 1)
	if !t.spawn(func() { v, err := fn(); res <- result{v, err} }) {
		return zero, bridge.ErrClosed
	}
	select {
	case r := <-res:
		return r.v, r.err
	case <-ctx.Done():
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

// Close stops publishing (done(bridge.ErrClosed) for what the broker has not confirmed,
// including what waits for a connection), ends every consumer (RabbitMQ requeues their
// unacknowledged deliveries), stops redialling, closes the connection and waits for every
// goroutine of the transport. It is idempotent; later calls wait for the first to finish
// and return nil.
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
	if t.abortDial != nil {
		t.abortDial()
	}
	t.mu.Unlock()
	defer close(t.closeDone)

	// The publisher stops between two messages; a connection the broker has blocked never
	// finishes the current one, so the wait is bounded.
	wait := time.NewTimer(closeTimeout)
	select {
	case <-t.pubExited:
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
