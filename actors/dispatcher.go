package actors

import (
	"sync"
	"time"
)

// pool is a protoactor Dispatcher that runs mailboxes on kept goroutines. protoactor's
// default dispatcher starts a goroutine each time an idle mailbox gets a message; that
// goroutine's stack then grows (decoding JSON needs a deep one) and the copying costs
// more than the message. Kept goroutines keep their grown stacks. A goroutine idle for
// idleTimeout exits; close stops all of them and waits.
type pool struct {
	work        chan func()
	throughput  int
	idleTimeout time.Duration

	mu     sync.RWMutex
	closed bool
	wg     sync.WaitGroup
}

func newPool(throughput int, idle time.Duration) *pool {
	return &pool{work: make(chan func()), throughput: throughput, idleTimeout: idle}
}

func (p *pool) Throughput() int { return p.throughput }

// Schedule hands fn to an idle goroutine, or starts one. After close, fn runs on a
// goroutine of its own (late system messages must still be processed).
func (p *pool) Schedule(fn func()) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		go fn()
		return
	}
	select {
	case p.work <- fn:
	default:
		p.wg.Add(1)
		go p.run(fn)
	}
}

func (p *pool) run(fn func()) {
	defer p.wg.Done()
	fn()
	idle := time.NewTimer(p.idleTimeout)
	defer idle.Stop()
	for {
		select {
		case f, ok := <-p.work:
			if !ok {
				return
			}
			f()
			idle.Reset(p.idleTimeout)
		case <-idle.C:
			return
		}
	}
}

// close stops the kept goroutines once they finish what they run, and waits.
func (p *pool) close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.work)
	}
	p.mu.Unlock()
	p.wg.Wait()
}
