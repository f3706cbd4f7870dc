// Package inject makes actors fail on purpose in tests, through protoactor receiver
// middleware (actors.WithReceiverMiddleware): production code has no test hook. An actor
// whose Receive is wrapped by Middleware panics when it receives a *Fail, exactly as if
// its own code had crashed, so its supervisor decides what happens next.
package inject

import (
	"github.com/asynkron/protoactor-go/actor"
)

// Fail is the message that makes a wrapped actor panic with it as the reason.
type Fail struct{ Reason string }

func (f *Fail) String() string { return "injected failure: " + f.Reason }

// Middleware panics on *Fail and passes everything else on.
func Middleware(next actor.ReceiverFunc) actor.ReceiverFunc {
	return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
		if f, ok := env.Message.(*Fail); ok {
			panic(f)
		}
		next(c, env)
	}
}
