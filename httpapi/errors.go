package httpapi

import "errors"

// ErrInvalidOption marks an option New or Serve cannot work with.
var ErrInvalidOption = errors.New("invalid option")

// The error_type of the exception dicts the API answers with (spec §10): Python's for a
// call answered with errors, and the Go side's own for a call that got no answer.
const (
	// ExternalMethodException is a call answered with an "errors" list (HTTP 500, as
	// Python), or one that could not be made (HTTP 502).
	ExternalMethodException = "ExternalMethodException"
	// TimeoutException is a call that got no answer within the call timeout (HTTP 504).
	TimeoutException = "TimeoutException"
	// ShutdownException is a call abandoned because the server is shutting down (HTTP 503).
	ShutdownException = "ShutdownException"
)
