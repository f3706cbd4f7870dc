package component

import (
	"sync"

	"github.com/asynkron/protoactor-go/actor"
)

// reply is where one answer of an actor reaches a goroutine outside the actor system: a
// process with a PID of its own (the sender of the request), whose answer lands on a
// channel the goroutine can select on together with its context. Unlike a protoactor
// future it has no timer of its own: the goroutine gives up when its context ends, and an
// answer that comes later finds the process gone (a dead letter), never a future that
// timed out. Start waits on one; calls share their Handle's callers (below).
type reply struct {
	sys *actor.ActorSystem
	pid *actor.PID
	ch  chan any
}

func newReply(sys *actor.ActorSystem) *reply {
	r := &reply{sys: sys, ch: make(chan any, 1)}
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

// callers is the one process through which a component's actor answers every call made
// on its Handle: the actor sends *toCaller, naming the call, and the answer lands on that
// call's channel. One process per Handle rather than one per call keeps the actor
// system's process registry out of every call.
type callers struct {
	sys *actor.ActorSystem
	pid *actor.PID

	mu    sync.Mutex
	slots map[string]chan any // by request id; the first answers a slot can hold are kept
}

// toCaller is an error for the call with request id id (an answer comes as *callAnswer).
type toCaller struct {
	id  string
	msg any
}

func newCallers(sys *actor.ActorSystem) *callers {
	cs := &callers{sys: sys, slots: map[string]chan any{}}
	cs.pid, _ = sys.ProcessRegistry.Add(callersProcess{cs}, "callers"+sys.ProcessRegistry.NextId())
	return cs
}

// slots1 holds slots of one answer for pooled calls (see release).
var slots1 = sync.Pool{New: func() any { return make(chan any, 1) }}

// open makes the slot of call id, holding up to n answers (a stream's); a pooled slot
// holds one and must be given back with release.
func (cs *callers) open(id string, n int, pooled bool) chan any {
	var ch chan any
	if pooled {
		ch = slots1.Get().(chan any)
	} else {
		ch = make(chan any, n)
	}
	cs.mu.Lock()
	cs.slots[id] = ch
	cs.mu.Unlock()
	return ch
}

// drop forgets call id; an answer that comes later is dropped.
func (cs *callers) drop(id string) {
	cs.mu.Lock()
	delete(cs.slots, id)
	cs.mu.Unlock()
}

// release forgets call id and keeps its pooled slot ch for another call. Answers are put
// in slots only under cs.mu while the slot is known (deliver), so once it is forgotten
// nothing can reach ch but what is in it already, which is dropped here.
func (cs *callers) release(id string, ch chan any) {
	cs.drop(id)
	select {
	case <-ch:
	default:
	}
	slots1.Put(ch)
}

// close removes the process; what is sent to it later becomes a dead letter.
func (cs *callers) close() { cs.sys.ProcessRegistry.Remove(cs.pid) }

type callersProcess struct{ cs *callers }

func (p callersProcess) SendUserMessage(_ *actor.PID, message any) {
	cs := p.cs
	switch m := actor.UnwrapEnvelopeMessage(message).(type) {
	case *callAnswer:
		cs.deliver(m.id, m)
	case *toCaller:
		cs.deliver(m.id, m.msg)
	case *actor.DeadLetterResponse: // the actor has stopped: no call of it will be answered
		cs.mu.Lock()
		for _, ch := range cs.slots {
			select {
			case ch <- ErrStopped:
			default:
			}
		}
		cs.mu.Unlock()
	}
}

// deliver puts msg in the slot of call id, if the call still waits and has room. It
// holds cs.mu while it does (the send never blocks), for release.
func (cs *callers) deliver(id string, msg any) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if ch := cs.slots[id]; ch != nil {
		select {
		case ch <- msg:
		default:
		}
	}
}

func (p callersProcess) SendSystemMessage(*actor.PID, any) {}

func (p callersProcess) Stop(*actor.PID) { p.cs.close() }
