package wire

import "errors"

var (
	// ErrMalformed marks a body that is not a valid envelope.
	ErrMalformed = errors.New("malformed envelope")
	// ErrTooLarge marks a body above the configured size limit.
	ErrTooLarge = errors.New("message body too large")
)
