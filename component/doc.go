// Package component is how a person writes an AT_QUEUE component in Go: a name, typed
// methods (Method) whose JSON Schemas are derived from their argument structs, and hooks
// for the built-ins ping, check_configured, configurate and exec_method. Start registers
// the component and returns a Handle, which serves requests and makes calls (Call, Send,
// Ping, CheckRegistered, Inspect, InspectAll, Configurate).
//
// Goroutines: each running component has an actor (its mailbox, under a supervisor with
// the component's policy), kept worker goroutines that run methods (never more than the
// requests in flight, which the consumer's prefetch bounds), and one goroutine that checks
// now and then that the registry still knows it. Stop stops all of them and waits.
//
// Every call ends within its deadline (the context's, or the component's call timeout)
// with its result or a typed error: test with errors.Is against ErrUnknownComponent,
// ErrUnknownMethod, ErrInvalidArguments, ErrNotAuthorized, ErrRemote, ErrCrashed,
// ErrNotAlive, ErrTimeout, ErrStopped; errors.As gives *RemoteError with the remote error
// objects.
package component
