package amqpbridge

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalidURL is returned by Dial for a URL it cannot parse.
	ErrInvalidURL = errors.New("invalid AMQP URL")
	// ErrUnreachable is returned by Dial when no AMQP connection could be opened: refused,
	// unresolvable, timed out, or ctx ended first.
	ErrUnreachable = errors.New("RabbitMQ unreachable")
	// ErrAccessRefused is returned by Dial when the broker rejects the login or the
	// virtual host.
	ErrAccessRefused = errors.New("RabbitMQ refused access")
	// ErrNacked is reported to a publish's done when the broker rejected the message.
	ErrNacked = errors.New("message rejected by the broker (nack)")
	// ErrConfirmTimeout is reported to a publish's done when no confirm arrived within the
	// confirm timeout (WithConfirmTimeout). The broker may still have taken the message.
	ErrConfirmTimeout = errors.New("no publisher confirm in time")
)

// dialError reads as one plain sentence and matches both its kind (ErrUnreachable, ...)
// and its cause (syscall.ECONNREFUSED, context.DeadlineExceeded, *amqp091.Error) with
// errors.Is and errors.As.
type dialError struct {
	kind  error
	msg   string
	cause error
}

func (e *dialError) Error() string { return e.msg }

func (e *dialError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

func newDialError(kind, cause error, format string, args ...any) error {
	return &dialError{kind: kind, msg: fmt.Sprintf(format, args...), cause: cause}
}
