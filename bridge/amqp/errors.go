package amqpbridge

import (
	"errors"
	"fmt"
	"strings"

	amqp "github.com/rabbitmq/amqp091-go"
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

// DurabilityHint is what errors about a queue declared with other flags add: the one
// setting that decides it.
const DurabilityHint = "queues of at_queue before commit 6ddd4b0 are not durable, later ones are: " +
	"choose with --durable=true|false (amqpbridge.WithDurable) to match the deployment"

// durabilityError is a PRECONDITION_FAILED about the durable flag, with DurabilityHint.
type durabilityError struct{ err error }

func (e *durabilityError) Error() string { return e.err.Error() + " (" + DurabilityHint + ")" }
func (e *durabilityError) Unwrap() error { return e.err }

// withDurabilityHint adds DurabilityHint to RabbitMQ's refusal of a queue declared with
// another durable flag than it has ("inequivalent arg 'durable'"); other errors are
// returned as they are.
func withDurabilityHint(err error) error {
	var amqpErr *amqp.Error
	if errors.As(err, &amqpErr) && amqpErr.Code == amqp.PreconditionFailed && strings.Contains(amqpErr.Reason, "'durable'") {
		return &durabilityError{err: err}
	}
	return err
}
