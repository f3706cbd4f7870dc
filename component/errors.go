package component

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/at-technology/atqueue/wire"
)

// Errors a call can end with. Test them with errors.Is; *RemoteError (errors.As) carries
// the remote error objects.
var (
	ErrUnknownComponent  = errors.New("unknown component")
	ErrNotAlive          = errors.New("target not alive")
	ErrUnknownMethod     = errors.New("unknown method")
	ErrInvalidArguments  = errors.New("invalid arguments")
	ErrNotAuthorized     = errors.New("not authorized")
	ErrRemote            = errors.New("remote method failed")
	ErrCrashed           = errors.New("target crashed")
	ErrTimeout           = errors.New("call timed out")
	ErrStopped           = errors.New("component stopped")
	ErrRegistration      = errors.New("registration failed")
	ErrInvalidDefinition = errors.New("invalid component definition")
	ErrBadAnswer         = errors.New("malformed answer")
)

// Error types that cross the wire in exception dicts (spec §9), plus the Go side's own;
// wire owns them.
const (
	ExecMethodException           = wire.ExecMethodException
	MethodArgumentSchemaException = wire.MethodArgumentSchemaException
	NotAuthorizedMethodException  = wire.NotAuthorizedMethodException
	ComponentCrashedException     = wire.ComponentCrashedException
	ProcessMessageException       = wire.ProcessMessageException
	ComponentStoppedException     = wire.ComponentStoppedException
)

// ErrRestart, wrapped in the error a method returns, says that the component's own state
// is broken: the caller gets a ComponentCrashedException and the component's supervisor
// restarts it (OnStart runs again), within its restart intensity. A panic in a method is
// that request's error only: it is answered, logged and counted, and the component goes on.
var ErrRestart = errors.New("the component must restart")

// RemoteError is an answer that carried an "errors" list.
type RemoteError struct {
	Receiver string
	Method   string
	Kind     error // one of the sentinels above
	Items    []wire.ErrorItem
}

// Error is one line: the target, the kind, and each error entry in one line (for
// invalid arguments, each failing field and why: "b: value is not a valid integer"). The
// entries as they came, Python's error objects included, are in Items.
func (e *RemoteError) Error() string {
	target := e.Receiver
	if e.Method != "" {
		target += "." + e.Method
	}
	parts := make([]string, len(e.Items))
	for i, it := range e.Items {
		parts[i] = strings.Join(strings.Fields(it.Summary()), " ")
	}
	return fmt.Sprintf("%s: %v: %s", target, e.Kind, strings.Join(parts, "; "))
}

// ResultError is a result that does not decode into the value the caller gave Call.
// errors.Is(err, ErrBadAnswer) holds.
type ResultError struct {
	Receiver string
	Method   string
	Result   json.RawMessage // as it came
	Err      error           // why it does not decode
}

func (e *ResultError) Error() string {
	return fmt.Sprintf("%s.%s: %v: the result %.200s does not fit: %v", e.Receiver, e.Method, ErrBadAnswer, e.Result, e.Err)
}

// Unwrap lets errors.Is match ErrBadAnswer and the decoding error.
func (e *ResultError) Unwrap() []error { return []error{ErrBadAnswer, e.Err} }

// Unwrap lets errors.Is match the kind.
func (e *RemoteError) Unwrap() error { return e.Kind }

// classify maps an errors list onto the sentinel a caller tests for.
func classify(from string, items []wire.ErrorItem) error {
	switch wire.Classify(from, items) {
	case wire.KindInvalidArguments:
		return ErrInvalidArguments
	case wire.KindNotAuthorized:
		return ErrNotAuthorized
	case wire.KindCrashed:
		return ErrCrashed
	case wire.KindUnknownMethod:
		return ErrUnknownMethod
	case wire.KindNotAlive:
		return ErrNotAlive
	case wire.KindUnknownComponent:
		return ErrUnknownComponent
	default:
		return ErrRemote
	}
}
