package bridge

import "errors"

var (
	// ErrClosed is returned by a transport or bridge that has been closed.
	ErrClosed = errors.New("transport closed")
	// ErrNoQueue is reported for a publish to a queue nobody declared.
	ErrNoQueue = errors.New("no such queue")
	// ErrUnsupported is answered to a Probe when the transport cannot count consumers.
	ErrUnsupported = errors.New("not supported by this transport")
	// ErrConnectionLost is reported for work that the loss of the broker connection cut short.
	ErrConnectionLost = errors.New("connection lost")
	// ErrInUse is returned when an exclusive consumer cannot have its queue: another
	// consumer (exclusive or not) holds it, or an exclusive one holds it against a new
	// consumer.
	ErrInUse = errors.New("queue in exclusive use")
	// ErrNotForwardable is returned by Delivery.Forward for a delivery its transport
	// cannot forward.
	ErrNotForwardable = errors.New("delivery cannot be forwarded")
)
