package actors

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// parkedCount is how many goroutines wait in p for work.
func (p *pool) parkedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.parked)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestPoolRunsReusesAndRetires: every function runs; a goroutine that finished is used
// again rather than a new one started; idle ones end after the idle timeout; close waits.
func TestPoolRunsReusesAndRetires(t *testing.T) {
	p := newPool(10, time.Hour)
	var ran atomic.Int64
	var wg sync.WaitGroup
	for range 1000 {
		wg.Add(1)
		p.Schedule(func() { ran.Add(1); wg.Done() })
	}
	wg.Wait()
	if ran.Load() != 1000 {
		t.Fatalf("ran %d of 1000", ran.Load())
	}
	p.close()

	// Reuse: one goroutine, parked, runs the next function and parks again. (After a
	// concurrent batch some goroutines may still be on their way to park, so the count
	// of parked ones proves nothing there.)
	r := newPool(10, time.Hour)
	first := func() *worker {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.parked[0]
	}
	done := make(chan struct{})
	r.Schedule(func() { close(done) })
	<-done
	waitFor(t, "the goroutine parks", func() bool { return r.parkedCount() == 1 })
	w := first()
	release := make(chan struct{})
	r.Schedule(func() { <-release })
	if n := r.parkedCount(); n != 0 {
		t.Fatalf("%d goroutines still parked while a function runs; the parked one was not used", n)
	}
	close(release)
	waitFor(t, "the goroutine parks again", func() bool { return r.parkedCount() == 1 })
	if first() != w {
		t.Fatal("a new goroutine ran the function; the parked one was not used")
	}
	r.close()

	q := newPool(10, 20*time.Millisecond)
	for range 100 {
		wg.Add(1)
		q.Schedule(wg.Done)
	}
	wg.Wait()
	waitFor(t, "idle goroutines end", func() bool { return q.parkedCount() == 0 })
	q.close()
	late := make(chan struct{})
	q.Schedule(func() { close(late) }) // after close: on a goroutine of its own
	select {
	case <-late:
	case <-time.After(5 * time.Second):
		t.Fatal("a function scheduled after close did not run")
	}
	q.close() // idempotent
}

// TestPoolCloseWaitsForRunning: close returns only once a running function has returned.
func TestPoolCloseWaitsForRunning(t *testing.T) {
	p := newPool(10, time.Second)
	started, release := make(chan struct{}), make(chan struct{})
	var finished atomic.Bool
	p.Schedule(func() {
		close(started)
		<-release
		finished.Store(true)
	})
	<-started
	closed := make(chan struct{})
	go func() { p.close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("close returned while a function ran")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-closed
	if !finished.Load() {
		t.Fatal("close returned before the function did")
	}
}
