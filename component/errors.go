package component

import (
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

// Error types that cross the wire in exception dicts (spec §9), plus the Go side's own.
const (
	ExecMethodException           = "ExecMethodException"
	MethodArgumentSchemaException = "MethodArgumentSchemaException"
	NotAuthorizedMethodException  = "NotAuthorizedMethodException"
	// ComponentCrashedException is sent by a Go component whose method panicked.
	ComponentCrashedException = "ComponentCrashedException"
	// ProcessMessageException is sent by a Go component for a request it cannot process
	// (where the Python package crashes and sends nothing).
	ProcessMessageException = "ProcessMessageException"
	// ComponentStoppedException is sent by a Go component its supervisor stopped for good
	// to a request that reached its queue too late to be served (routed by the registry
	// before the component's unregister arrived there). Go callers get ErrNotAlive.
	ComponentStoppedException = "ComponentStoppedException"
)

// RemoteError is an answer that carried an "errors" list.
type RemoteError struct {
	Receiver string
	Method   string
	Kind     error // one of the sentinels above
	Items    []wire.ErrorItem
}

func (e *RemoteError) Error() string {
	target := e.Receiver
	if e.Method != "" {
		target += "." + e.Method
	}
	return fmt.Sprintf("%s: %v: %s", target, e.Kind, wire.ErrorTexts(e.Items))
}

// Unwrap lets errors.Is match the kind.
func (e *RemoteError) Unwrap() error { return e.Kind }

// classify maps an errors list onto the sentinel a caller tests for.
func classify(from string, items []wire.ErrorItem) error {
	for _, it := range items {
		switch it.Type {
		case MethodArgumentSchemaException:
			return ErrInvalidArguments
		case NotAuthorizedMethodException:
			return ErrNotAuthorized
		case ComponentCrashedException:
			return ErrCrashed
		case ExecMethodException:
			return ErrUnknownMethod
		case ComponentStoppedException:
			return ErrNotAlive
		}
		if it.Type == "" && from == wire.RegistryName && isNotRegistered(it.Text) {
			return ErrUnknownComponent
		}
		if it.Type == "" && from == wire.RegistryName && strings.Contains(it.Text, " is registered but not alive") {
			return ErrNotAlive
		}
	}
	return ErrRemote
}

func isNotRegistered(text string) bool {
	const suffix = " is not registered yet"
	return len(text) > len(suffix) && text[len(text)-len(suffix):] == suffix
}
