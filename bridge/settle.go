package bridge

import (
	"errors"
	"sync"
)

// settler runs settlements (acknowledgements, rejections, consumer cancels) in the order
// the bridge actor hands them over, on one goroutine the actor owns: an acknowledgement
// written to a socket, or a cancel waiting for the broker, never waits in a mailbox or
// on a transport's confirm goroutine. Its queue is unbounded, so push never blocks.
type settler struct {
	refused func(*Publish) // a forward the transport could not do now: publish it instead

	mu     sync.Mutex
	ops    []settleOp
	spare  []settleOp    // the run's last batch, emptied, for push to fill again
	signal chan struct{} // size 1: ops has grown
	closed bool
	done   chan struct{} // closed when the goroutine has run everything and exited
}

func newSettler(refused func(*Publish)) *settler {
	s := &settler{refused: refused, signal: make(chan struct{}, 1), done: make(chan struct{})}
	go s.run()
	return s
}

// settleOp is one settlement: d acknowledged, or rejected with nack, or forwarded with
// fwd (Publish.Forward); or, when run is set, run (a consumer's cancel).
type settleOp struct {
	d             *Delivery
	nack, requeue bool
	fwd           *Publish
	run           func()
}

func (op settleOp) do(s *settler) {
	switch {
	case op.run != nil:
		op.run()
	case op.fwd != nil:
		// Another error is a failed channel or connection: the broker requeues d, and
		// what sent it handles it again.
		if err := op.d.Forward(op.fwd.Queue, op.fwd.Body, op.fwd.Headers); errors.Is(err, ErrNotForwardable) && s.refused != nil {
			s.refused(op.fwd)
		}
	case op.nack:
		_ = op.d.Nack(op.requeue)
	default:
		_ = op.d.Ack()
	}
}

// push queues op; after close it runs op at once on the caller's goroutine.
func (s *settler) push(op settleOp) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		op.do(s)
		return
	}
	if s.ops == nil {
		s.ops, s.spare = s.spare, nil
	}
	s.ops = append(s.ops, op)
	s.mu.Unlock()
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

func (s *settler) run() {
	defer close(s.done)
	for {
		s.mu.Lock()
		ops, closed := s.ops, s.closed
		s.ops = nil
		s.mu.Unlock()
		for i, op := range ops {
			op.do(s)
			ops[i] = settleOp{}
		}
		if len(ops) > 0 {
			s.mu.Lock()
			if s.spare == nil {
				s.spare = ops[:0]
			}
			s.mu.Unlock()
		}
		if closed && len(ops) == 0 {
			return
		}
		if len(ops) == 0 {
			<-s.signal
		}
	}
}

// close runs what is queued, stops the goroutine and waits for it. It is idempotent.
func (s *settler) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	select {
	case s.signal <- struct{}{}:
	default:
	}
	<-s.done
}
