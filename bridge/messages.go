package bridge

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/wire"
)

// SubID names a consumer the bridge opened for an owner. The zero SubID names none.
type SubID uint64

// Messages the bridge actor understands, and those it sends back. Every answer goes to
// an actor (the sender of the request, or the PID it names): nothing the bridge is given
// runs on its goroutines.
type (
	// Publish puts Body on Queue. The bridge publishes it as soon as it has a connection.
	Publish struct {
		Queue   string
		Body    []byte
		Headers wire.Headers
		// Expiration, when positive, drops the message if nobody consumed it in time (on
		// transports that implement Expirer; others keep it).
		Expiration time.Duration
		// FailFast fails the publish at once with ErrConnectionLost while the bridge has
		// no usable connection, instead of holding it until the connection is back
		// (within the transport's confirm timeout).
		FailFast bool
		// Settle, when set, is a delivery the bridge settles once the outcome is known:
		// acknowledged when the queue has the message (and also when the publish failed
		// for good: nothing would come of handling it again), requeued when the connection
		// was lost first, so that it is handled again.
		Settle *Delivery
		// Notify, when set, is sent a *Published with Tag once the outcome is known (with
		// ErrorsOnly, only when the publish failed).
		Notify     *actor.PID
		Tag        any
		ErrorsOnly bool
		// Forward, with Settle, forwards Settle where its transport can (Forwarder): the
		// message is published on the channel Settle came through and Settle is
		// acknowledged right after it, on the settler goroutine, without waiting for a
		// publisher confirm. Nothing is sent to Notify then, since the outcome is not
		// confirmed; but the broker returns a message whose queue does not exist, and
		// every actor that forwarded with Notify set, and has not stopped since, is sent
		// the message as a *Returned (the broker does not say whose it was). Where the
		// transport cannot, this is an ordinary publish with Settle. Expiration is not
		// supported with Forward.
		Forward bool
	}
	// Returned is a forwarded message (Publish.Forward) that the broker returned: Queue
	// does not exist.
	Returned struct {
		Queue   string
		Body    []byte
		Headers wire.Headers
	}
	// Published tells the outcome of a Publish: Err is nil when the queue has the
	// message; ErrNoQueue, ErrConnectionLost, ErrClosed or the transport's error otherwise.
	Published struct {
		Queue string
		Tag   any
		Err   error
	}
	// Settle settles a delivery the bridge handed out: acknowledged, or with Nack
	// rejected (back to its queue with Requeue).
	Settle struct {
		D       *Delivery
		Nack    bool
		Requeue bool
	}
	// Open declares Session's queue pair (when Session is not "") and consumes Queue for
	// the sender, the consumer's owner: each delivery is sent to it as a *Delivery, which
	// it settles through the bridge (Settle, or Publish.Settle). The bridge answers with
	// *Opened. A consumer outlives lost connections and restarts of the bridge: it is
	// resumed on the next connection, and what was not settled is delivered again.
	Open struct {
		Session  string
		Queue    string
		Prefetch int
		// Exclusive makes the consumer the queue's only one (Transport.ConsumeExclusive):
		// Opened.Err matches ErrInUse while another consumer holds the queue, and the
		// owner is sent *Lost if the queue is taken by another consumer later.
		Exclusive bool
		// Declared says that Session's queues exist already (a Go component declares its
		// pair before it registers): the bridge consumes at once and declares them only
		// if the queue is missing, two round trips fewer per registration.
		Declared bool
		// Shared puts an Exclusive consumer on a channel it shares with the other Shared
		// consumers of the same prefetch, when the transport can (SharedConsumer): for a
		// process that consumes many queues (the registry; the components of a process).
		Shared bool
		// Deadline, when set, bounds declaring and consuming: an asker that has given up
		// must not be left with a consumer nobody cancels.
		Deadline time.Time
		// Tag is returned unchanged in Opened.
		Tag any
	}
	// Opened answers Open.
	Opened struct {
		Queue string
		Sub   SubID
		Tag   any
		Err   error
	}
	// Release cancels the consumer Sub once the settlements the bridge owes for its
	// deliveries are done; what it has not settled goes back to the queue.
	Release struct{ Sub SubID }
	// Lost tells an owner that its exclusive consumer is gone: after a lost connection,
	// another consumer had taken the queue.
	Lost struct {
		Sub   SubID
		Queue string
		Err   error
	}
	// Probe asks how many consumers Queue has; the bridge answers the sender with *Probed.
	// Tag is returned unchanged for the asker's bookkeeping.
	Probe struct {
		Queue string
		Tag   any
	}
	// Probed answers Probe. Err is ErrUnsupported when the transport cannot tell.
	Probed struct {
		Queue     string
		Tag       any
		Consumers int
		Messages  int // ready in the queue
		Err       error
	}
	// Drain asks for up to Max messages waiting in Queue, taken without consuming it; the
	// bridge answers the sender with *Drained. Tag is returned unchanged.
	Drain struct {
		Queue string
		Max   int
		Tag   any
	}
	// Drained answers Drain. Err is ErrUnsupported when the transport cannot drain.
	Drained struct {
		Queue string
		Tag   any
		Msgs  []Message
		Err   error
	}
	// DeleteSession deletes Session's queue pair where a queue is empty and unconsumed,
	// once the releases of those queues asked before are done; the bridge answers the
	// sender with *Deleted. Tag is returned unchanged.
	DeleteSession struct {
		Session string
		Tag     any
	}
	// Deleted answers DeleteSession; Err matches ErrInUse for a queue that stays.
	Deleted struct {
		Session string
		Tag     any
		Err     error
	}
	// Watch subscribes the sender to the state of the bridge's connection: it is sent a
	// *Link now and at every change, until it stops.
	Watch struct{}
	// Link is the state of the bridge's connection.
	Link struct {
		Up  bool
		Err error // why it is down
	}
	// Connected asks the bridge to answer with *Link once it has connected for the first
	// time, or once it knows it cannot (Err).
	Connected struct{}
)

// Sub is the bridge subscription a delivery came through (zero for raw consumers).
func (d *Delivery) Sub() SubID { return d.sub }
