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
	// Reuse, with an idle timeout no run reaches: with a short one, the reaper could end a
	// parked goroutine between the two counts.
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
	waitFor(t, "a goroutine parks", func() bool { return p.parkedCount() > 0 })
	before := p.parkedCount()
	done := make(chan struct{})
	p.Schedule(func() { close(done) })
	<-done
	waitFor(t, "the goroutine parks again", func() bool { return p.parkedCount() == before })
	p.close()

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
