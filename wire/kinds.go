package wire

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// Exception types (the error_type of the exception dicts of spec §9) that cross the wire:
// the three Python sends, and the ones the Go side adds where Python sends nothing.
const (
	ExecMethodException           = "ExecMethodException"
	MethodArgumentSchemaException = "MethodArgumentSchemaException"
	NotAuthorizedMethodException  = "NotAuthorizedMethodException"
	// ExternalMethodException never crosses AMQP: the debug HTTP API answers it (§10).
	ExternalMethodException = "ExternalMethodException"
	// ComponentCrashedException answers a request whose method panicked (Go components).
	ComponentCrashedException = "ComponentCrashedException"
	// ProcessMessageException answers a request a Go component cannot process (where the
	// Python package crashes and sends nothing).
	ProcessMessageException = "ProcessMessageException"
	// ComponentStoppedException answers a request that reached a component after it had
	// stopped (its queue, read by the registry after the component left).
	ComponentStoppedException = "ComponentStoppedException"
)

// Kind is what an error answer says happened, read the same way by every Go reader.
type Kind int

const (
	// KindRemote is any other failure: the method raised, configurate failed, ...
	KindRemote Kind = iota
	// KindUnknownComponent: the registry has no component of that name.
	KindUnknownComponent
	// KindNotAlive: the component is registered but gone (found dead, left, or stopped).
	KindNotAlive
	// KindUnknownMethod: the component has no such method (ExecMethodException).
	KindUnknownMethod
	// KindInvalidArguments: the arguments failed validation.
	KindInvalidArguments
	// KindNotAuthorized: an authorized method got no token.
	KindNotAuthorized
	// KindCrashed: the method panicked.
	KindCrashed
)

func (k Kind) String() string {
	switch k {
	case KindUnknownComponent:
		return "unknown component"
	case KindNotAlive:
		return "not alive"
	case KindUnknownMethod:
		return "unknown method"
	case KindInvalidArguments:
		return "invalid arguments"
	case KindNotAuthorized:
		return "not authorized"
	case KindCrashed:
		return "crashed"
	default:
		return "remote failure"
	}
}

// Classify reads an answer's errors list: from is the answer's sender. Exception dicts
// are told apart by their error_type; the registry's plain-string errors by the texts the
// functions below write (Python's registry writes the "not registered yet" one too).
func Classify(from string, items []ErrorItem) Kind {
	for _, it := range items {
		switch it.Type {
		case MethodArgumentSchemaException:
			return KindInvalidArguments
		case NotAuthorizedMethodException:
			return KindNotAuthorized
		case ComponentCrashedException:
			return KindCrashed
		case ExecMethodException:
			return KindUnknownMethod
		case ComponentStoppedException:
			return KindNotAlive
		case "":
			if from != RegistryName {
				continue
			}
			switch {
			case strings.HasSuffix(it.Text, notRegisteredYet):
				return KindUnknownComponent
			case strings.Contains(it.Text, notAlive):
				return KindNotAlive
			}
		}
	}
	return KindRemote
}

// The registry's error texts. The first is Python's own (spec §6.1) and must stay as it is.
const (
	notRegisteredYet = " is not registered yet"
	notAlive         = " is registered but not alive"
)

// NotRegisteredYet is the registry's answer to a message for a name it does not know
// (spec §6.1, byte for byte).
func NotRegisteredYet(name string) string {
	return "Component " + PyString(name) + notRegisteredYet
}

// NotRegistered is the registry's inspect answer for a name it does not know (spec §6.2:
// without "yet").
func NotRegistered(name string) string {
	return "Component " + PyString(name) + " is not registered"
}

// NotAliveFor is the registry's answer to a request for a component found dead: nothing
// has consumed its queue for d.
func NotAliveFor(name string, d time.Duration) string {
	return fmt.Sprintf("Component %s%s: nothing has consumed its queue for %s", PyString(name), notAlive, d.Round(time.Second))
}

// NotAliveNoQueue is the registry's answer to a request it routed to a queue that does
// not exist.
func NotAliveNoQueue(name, queue string) string {
	return fmt.Sprintf("Component %s%s: its queue %s does not exist", PyString(name), notAlive, queue)
}

// Stopped is the text of the ComponentStoppedException that answers a request found in
// the queue of a component that has left.
func Stopped(name, messageID, sender string) string {
	return fmt.Sprintf("Component %s has stopped; message %s from %s was not executed", PyString(name), PyString(messageID), PyString(sender))
}

// Outcome reads the message of an answer from sender: "ok", or the Kind of its error
// (as a string) and the error in one line, as the registry counts and shows calls.
func Outcome(sender string, message []byte) (outcome, text string) {
	if !bytes.Contains(message, []byte(`"errors"`)) {
		return "ok", ""
	}
	a, err := DecodeAnswer(message)
	if err != nil || !a.HasErrors {
		return "ok", ""
	}
	if len(a.Errors) > 0 {
		text = strings.Join(strings.Fields(a.Errors[0].Summary()), " ")
	}
	return Classify(sender, a.Errors).String(), text
}
