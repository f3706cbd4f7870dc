package component

import (
	"github.com/asynkron/protoactor-go/actor"
)

// reply is where one answer of an actor reaches a goroutine outside the actor system: a
// process with a PID of its own (the sender of the request), whose answer lands on a
// channel the goroutine can select on together with its context. Unlike a protoactor
// future it has no timer of its own: the goroutine gives up when its context ends, and an
// answer that comes later finds the process gone (a dead letter), never a future that
// timed out.
type reply struct {
	sys *actor.ActorSystem
	pid *actor.PID
	ch  chan any // the first answers it can hold are kept, later ones dropped
}

func newReply(sys *actor.ActorSystem) *reply { return newReplies(sys, 1) }

// newReplies is a reply process that keeps up to n answers (a stream's).
func newReplies(sys *actor.ActorSystem, n int) *reply {
	r := &reply{sys: sys, ch: make(chan any, n)}
	r.pid, _ = sys.ProcessRegistry.Add(replyProcess{r}, "reply"+sys.ProcessRegistry.NextId())
	return r
}

// close removes the process; an answer sent later becomes a dead letter.
func (r *reply) close() { r.sys.ProcessRegistry.Remove(r.pid) }

type replyProcess struct{ r *reply }

func (p replyProcess) SendUserMessage(_ *actor.PID, message any) {
	m := actor.UnwrapEnvelopeMessage(message)
	if _, ok := m.(*actor.DeadLetterResponse); ok {
		m = ErrStopped // the actor it asked has stopped
	}
	select {
	case p.r.ch <- m:
	default:
	}
}

func (p replyProcess) SendSystemMessage(*actor.PID, any) {}

func (p replyProcess) Stop(*actor.PID) { p.r.close() }
