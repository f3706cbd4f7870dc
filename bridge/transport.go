package bridge

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/at-technology/atqueue/wire"
)

// Broker is what a bridge connects to: RabbitMQ (bridge/amqp.NewBroker) or the
// in-process broker (Embedded). Each Connect opens a new connection; the bridge actor
// owns the one it opened and closes it when it stops or restarts.
type Broker interface {
	// Connect opens a connection within ctx.
	Connect(ctx context.Context) (Transport, error)
}

// LinkNotifier is implemented by transports whose connection can be lost and restored
// (they redial by themselves). The bridge registers f once, before it uses the
// transport; f is called from a transport goroutine with up=false and the reason when
// the connection is lost, and with up=true when it is back. f must not block.
type LinkNotifier interface {
	NotifyLink(f func(up bool, reason error))
}

// Transport is one connection to a broker. It moves message bodies between named queues
// with the semantics of RabbitMQ's default exchange: durable queues declared per session,
// manual acknowledgement, a bound on unacknowledged deliveries per consumer, and requeue on
// nack, on cancel and when the connection closes.
//
// Implementations: Embedded's connections (in-process) and the AMQP transport in
// bridge/amqp. Inside a process only the bridge actor uses one; tests use them directly
// to play raw peers.
type Transport interface {
	// DeclareSession makes the queue pair send-<sid>/recieve-<sid> exist. It may wait on
	// the network and honours ctx.
	DeclareSession(ctx context.Context, sid string) error
	// Consume delivers the messages of queue to deliver until the subscription is
	// cancelled. deliver is called from a goroutine the transport owns and must not block
	// (hand the delivery to an actor). At most prefetch deliveries are unacknowledged at
	// once (prefetch <= 0 means DefaultPrefetch).
	Consume(ctx context.Context, queue string, prefetch int, deliver func(*Delivery)) (Subscription, error)
	// ConsumeExclusive is Consume as the only consumer of queue: it fails with ErrInUse
	// while the queue has another consumer, and while it lasts every other consumer of the
	// queue is refused. If the transport cannot keep it (after a reconnect another
	// consumer had taken the queue), lost (may be nil) is called once, from a transport
	// goroutine, after the last delivery; the subscription is then cancelled.
	ConsumeExclusive(ctx context.Context, queue string, prefetch int, deliver func(*Delivery), lost func(error)) (Subscription, error)
	// Publish hands body to the transport and returns at once; done (may be nil) is called
	// exactly once with the outcome: nil when the queue has accepted it (a publisher
	// confirm on AMQP), an error otherwise.
	Publish(queue string, body []byte, h wire.Headers, done func(error))
	// Close releases the transport; later calls fail with ErrClosed. It is idempotent.
	Close() error
}

// SharedConsumer is implemented by transports whose consumers can share a channel (AMQP):
// ConsumeExclusiveShared is ConsumeExclusive on a channel shared with other such
// consumers, which is cheaper to start, and to keep by the thousand on one connection.
type SharedConsumer interface {
	ConsumeExclusiveShared(ctx context.Context, queue string, prefetch int, deliver func(*Delivery), lost func(error)) (Subscription, error)
}

// SessionAdopter is implemented by transports that keep the sessions they declared, to
// declare them again after a reconnect: AdoptSession keeps sid as if declared, for a pair
// another client is known to have declared.
type SessionAdopter interface {
	AdoptSession(sid string)
}

// Prober is implemented by transports that can tell how many consumers a queue has; the
// registry uses it to tell live components from dead ones.
type Prober interface {
	// Consumers returns the number of consumers of queue. It may wait on the network.
	Consumers(ctx context.Context, queue string) (int, error)
	// Stat returns the number of consumers of queue and of the messages ready in it.
	Stat(ctx context.Context, queue string) (consumers, messages int, err error)
}

// Drainer is implemented by transports that can take the messages waiting in a queue
// without consuming it (AMQP basic.get), so that the queue's consumer count stays what its
// owner makes it. The registry uses it to answer the requests queued for a component
// that died.
type Drainer interface {
	// Drain removes up to max messages from queue and returns them, oldest first; fewer
	// (none) when the queue holds fewer. A queue that has a consumer is not drained: its
	// messages are that consumer's (a component that came back), and Drain fails with
	// ErrInUse, taking nothing. A consumer that starts during a drain gets back what the
	// drain took since it last counted the consumers, and Drain fails with ErrInUse,
	// returning what it took before. What Drain returns is removed from the queue; what
	// it does not return is left there. It may wait on the network and honours ctx.
	Drain(ctx context.Context, queue string, max int) ([]Message, error)
}

// Deleter is implemented by transports that can delete queues; the registry uses it to
// clean up after components that left.
type Deleter interface {
	// DeleteSession deletes send-<sid> and recieve-<sid> when each is empty and has no
	// consumer; one that is not stays, and the error says so (ErrInUse).
	DeleteSession(ctx context.Context, sid string) error
}

// Message is a message taken from a queue and already settled.
type Message struct {
	Body    []byte
	Headers wire.Headers
}

// Expirer is implemented by transports that can drop a message not consumed within ttl
// (AMQP per-message expiration). The registry puts one on registration answers, so that
// an answer whose component died before reading it does not stay in the shared queue
// forever (spec quirk 5).
type Expirer interface {
	PublishExpiring(queue string, body []byte, h wire.Headers, ttl time.Duration, done func(error))
}

// Connectivity is implemented by transports that talk to a broker over a connection that
// can be lost. Connected reports whether the transport has a usable connection now (a
// snapshot: it may change right after the call). The bridge actor uses it for
// Publish.FailFast.
type Connectivity interface {
	Connected() bool
}

var (
	_ Connectivity = (*Embedded)(nil)
	_ Drainer      = (*Embedded)(nil)
)

// Connected reports true: the in-process transport has no connection to lose.
func (e *Embedded) Connected() bool { return true }

// Subscription is a running consumer.
type Subscription interface {
	// Cancel stops deliveries and requeues the unacknowledged ones; after it returns
	// deliver is not called again. It is idempotent.
	Cancel() error
}

// DefaultPrefetch bounds the unacknowledged deliveries of one consumer.
const DefaultPrefetch = 256

// Acker settles a delivery with the transport it came from.
type Acker interface {
	Ack() error
	Nack(requeue bool) error
}

// Forwarder is implemented by the Ackers of transports that can settle a delivery by
// forwarding it (Publish.Forward): publish a message on the channel the delivery came
// through, then acknowledge the delivery there, without waiting for a publisher confirm.
//
// That is at least once without the confirm's round trip: RabbitMQ handles a channel's
// commands in order, so an acknowledgement that took effect followed a publish the
// broker had routed to its queue; when the channel or the connection ends between the
// two, the delivery is requeued and handled again (a duplicate at worst, which the
// receiver's dedupe window drops). Messages are transient, so a broker that dies loses
// them either way. A message whose queue does not exist comes back through the
// transport's ReturnNotifier.
type Forwarder interface {
	// CanForward reports whether this delivery can be forwarded (AMQP: it came on a
	// channel that hands returned messages over).
	CanForward() bool
	// Forward publishes body on queue (mandatory), then acknowledges the delivery. It
	// fails with ErrNotForwardable, doing nothing, when the channel is busy with an RPC
	// (a basic.consume waits for its queue: the publish and the acknowledgement would wait
	// behind it on the broker); the delivery is then published the ordinary way. Another
	// error means the channel or the connection failed: the delivery is requeued by the
	// broker, and the message may or may not have been published.
	Forward(queue string, body []byte, h wire.Headers) error
}

// ReturnNotifier is implemented by transports that hand back forwarded messages the
// broker returned because their queue does not exist. The bridge registers f once,
// before it uses the transport; f is called from a transport goroutine and must not
// block.
type ReturnNotifier interface {
	NotifyReturn(f func(queue string, m Message))
}

// Delivery is one message taken from a queue. It must be settled exactly once with Ack or
// Nack; later calls are ignored. Body must not be modified.
type Delivery struct {
	Queue       string
	Body        []byte
	Headers     wire.Headers
	Redelivered bool

	acker   Acker
	settled atomic.Bool
	sub     SubID // the bridge's subscription it came through; 0 for raw consumers
}

// NewDelivery is for Transport implementations.
func NewDelivery(queue string, body []byte, h wire.Headers, redelivered bool, a Acker) *Delivery {
	return &Delivery{Queue: queue, Body: body, Headers: h, Redelivered: redelivered, acker: a}
}

// Ack acknowledges the delivery: the transport forgets it.
func (d *Delivery) Ack() error {
	if d.acker == nil || !d.settled.CompareAndSwap(false, true) {
		return nil
	}
	return d.acker.Ack()
}

// CanForward reports whether the delivery can be settled with Forward: it is not settled
// yet and its transport can (Forwarder).
func (d *Delivery) CanForward() bool {
	f, ok := d.acker.(Forwarder)
	return ok && !d.settled.Load() && f.CanForward()
}

// Forward settles the delivery by forwarding it (Forwarder.Forward): body is published
// on queue, then the delivery is acknowledged. It fails with ErrNotForwardable, leaving
// the delivery unsettled, when CanForward is false or the transport cannot forward it
// now; a delivery settled already is ignored.
func (d *Delivery) Forward(queue string, body []byte, h wire.Headers) error {
	f, ok := d.acker.(Forwarder)
	if !ok || !f.CanForward() {
		return ErrNotForwardable
	}
	if !d.settled.CompareAndSwap(false, true) {
		return nil
	}
	err := f.Forward(queue, body, h)
	if errors.Is(err, ErrNotForwardable) {
		d.settled.Store(false) // only the bridge's settler settles: nobody raced it
	}
	return err
}

// Nack rejects the delivery; with requeue it goes back to its queue.
func (d *Delivery) Nack(requeue bool) error {
	if d.acker == nil || !d.settled.CompareAndSwap(false, true) {
		return nil
	}
	return d.acker.Nack(requeue)
}
