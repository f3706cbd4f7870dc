package actors

import (
	"sync"
	"time"
)

// pool is a protoactor Dispatcher that runs mailboxes on kept goroutines. protoactor's
// default dispatcher starts a goroutine each time an idle mailbox gets a message; that
// goroutine's stack then grows (decoding JSON needs a deep one) and the copying costs
// more than the message. Kept goroutines keep their grown stacks.
//
// A goroutine that has run its function parks on its own channel, on top of a stack of
// parked ones; Schedule hands the next function to the one parked last (its stack and
// caches are the warmest). Neither waits on a timer: a reaper goroutine ends those parked
// for longer than idleTimeout, every idleTimeout/2. close ends all of them and waits.
type pool struct {
	throughput  int
	idleTimeout time.Duration

	mu     sync.Mutex
	parked []*worker // the one parked longest first
	closed bool
	stop   chan struct{} // closed by close: the reaper ends
	wg     sync.WaitGroup
}

// worker is a kept goroutine; work hands it its next function (size 1: never waits).
type worker struct {
	work  chan func()
	since time.Time // when it parked
}

func newPool(throughput int, idle time.Duration) *pool {
	p := &pool{throughput: throughput, idleTimeout: idle, stop: make(chan struct{})}
	p.wg.Add(1)
	go p.reap()
	return p
}

func (p *pool) Throughput() int { return p.throughput }

// Schedule hands fn to the goroutine parked last, or starts one. After close, fn runs on
// a goroutine of its own (late system messages must still be processed).
func (p *pool) Schedule(fn func()) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		go fn()
		return
	}
	if n := len(p.parked); n > 0 {
		w := p.parked[n-1]
		p.parked[n-1] = nil
		p.parked = p.parked[:n-1]
		p.mu.Unlock()
		w.work <- fn
		return
	}
	p.wg.Add(1)
	p.mu.Unlock()
	go p.run(fn)
}

// run runs fn, then parks and runs what it is handed, until the reaper or close ends it.
func (p *pool) run(fn func()) {
	defer p.wg.Done()
	w := &worker{work: make(chan func(), 1)}
	for {
		fn()
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return
		}
		w.since = time.Now()
		p.parked = append(p.parked, w)
		p.mu.Unlock()
		var ok bool
		if fn, ok = <-w.work; !ok {
			return
		}
	}
}

// reap ends, every idleTimeout/2, the goroutines parked for idleTimeout or longer.
func (p *pool) reap() {
	defer p.wg.Done()
	t := time.NewTicker(p.idleTimeout / 2)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			p.mu.Lock()
			n := 0
			for n < len(p.parked) && now.Sub(p.parked[n].since) >= p.idleTimeout {
				close(p.parked[n].work)
				n++
			}
			p.parked = append(p.parked[:0], p.parked[n:]...)
			clear(p.parked[len(p.parked):cap(p.parked)])
			p.mu.Unlock()
		}
	}
}

// close ends the kept goroutines once they finish what they run, and waits.
func (p *pool) close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		for _, w := range p.parked {
			close(w.work)
		}
		p.parked = nil
		close(p.stop)
	}
	p.mu.Unlock()
	p.wg.Wait()
}
