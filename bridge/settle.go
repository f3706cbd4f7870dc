package bridge

import "sync"

// settler runs settlements (acknowledgements, rejections, consumer cancels) in the order
// the bridge actor hands them over, on one goroutine the actor owns: an acknowledgement
// written to a socket, or a cancel waiting for the broker, never waits in a mailbox or
// on a transport's confirm goroutine. Its queue is unbounded, so push never blocks.
type settler struct {
	mu     sync.Mutex
	ops    []func()
	signal chan struct{} // size 1: ops has grown
	closed bool
	done   chan struct{} // closed when the goroutine has run everything and exited
}

func newSettler() *settler {
	s := &settler{signal: make(chan struct{}, 1), done: make(chan struct{})}
	go s.run()
	return s
}

// push queues op; after close it runs op at once on the caller's goroutine.
func (s *settler) push(op func()) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		op()
		return
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
		for _, op := range ops {
			op()
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
