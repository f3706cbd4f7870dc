package faults_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/bridge"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/internal/testkit/testlog"
)

// The load every fault is injected into.
const (
	inflight = 64
	// attemptTimeout bounds one try of a call; a call whose request or answer the fault
	// lost is sent again (same id) after this.
	attemptTimeout = 3 * time.Second
	// stallAfter ends a load that has had no answer for this long: the system did not
	// recover, and waiting for the overall deadline would only cost time.
	stallAfter = 30 * time.Second
	// loadDeadline bounds a whole load, fault included.
	loadDeadline = 150 * time.Second
)

// caller is the test process's side: an actor system over its own AMQP connection with
// one component, Caller, that makes the calls.
type caller struct {
	tr  *amqpbridge.Transport
	sys *actors.System
	h   *component.Handle
}

// newCaller connects to url and registers Caller; t.Cleanup shuts it down.
func newCaller(t *testing.T, url string) *caller {
	t.Helper()
	log := testlog.New(t, testlog.WithLevel(slog.LevelWarn), testlog.WithPrefix("caller"))
	ctx, cancel := context.WithTimeout(context.Background(), ready)
	defer cancel()
	// A connection of its own to look at the broker with; the system's bridge has its own.
	tr, err := amqpbridge.Dial(ctx, url, amqpbridge.WithLogger(log), amqpbridge.WithConnectionName("faults-probe"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	sys, err := actors.New(actors.WithBroker(amqpbridge.NewBroker(url, amqpbridge.WithLogger(log), amqpbridge.WithConnectionName("faults-caller"))),
		actors.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := sys.Shutdown(ctx); err != nil {
			t.Logf("caller shutdown: %v", err)
		}
	})
	h, err := sys.Spawn(ctx, component.New("Caller"))
	if err != nil {
		t.Fatalf("registering Caller: %v", err)
	}
	return &caller{tr: tr, sys: sys, h: h}
}

// retryKind names the failures a call is retried on (with the same id), "" for others.
func retryKind(err error) string {
	switch {
	case errors.Is(err, component.ErrTimeout):
		return "timeout"
	case errors.Is(err, bridge.ErrConnectionLost):
		return "connection_lost"
	case errors.Is(err, component.ErrNotAlive):
		return "not_alive"
	case errors.Is(err, component.ErrUnknownComponent):
		return "unknown_component"
	}
	return ""
}

// load keeps inflight calls of Counter.exec going, each with its own id, until finish is
// called, retrying each call through faults until it is answered or the load ends.
type load struct {
	name string
	h    *component.Handle

	ctx    context.Context
	cancel context.CancelFunc
	start  time.Time

	next       atomic.Int64
	draining   atomic.Bool // no new calls
	answered   atomic.Int64
	retries    atomic.Int64
	lastAnswer atomic.Int64 // unix nanoseconds
	stalled    atomic.Bool

	mu       sync.Mutex
	got      map[string]bool // ids answered with themselves
	wrong    []string        // "id -> answer" for answers that were not the id
	failed   map[string]int  // final failures by error text
	retried  map[string]int  // retried failures by kind
	progress chan struct{}   // size 1: answered grew

	done chan struct{} // closed when every goroutine of the load has returned
}

// startLoad starts the calls, with ids "<name>-<index>"; finish ends them, and so does
// t.Cleanup if the test ends first.
func startLoad(t *testing.T, h *component.Handle, name string) *load {
	l := &load{name: name, h: h, got: map[string]bool{}, failed: map[string]int{}, retried: map[string]int{},
		progress: make(chan struct{}, 1), done: make(chan struct{}), start: time.Now()}
	l.ctx, l.cancel = context.WithTimeout(context.Background(), loadDeadline)
	l.lastAnswer.Store(time.Now().UnixNano())
	var callers sync.WaitGroup
	for range inflight {
		callers.Go(func() {
			for l.ctx.Err() == nil && !l.draining.Load() {
				l.call(fmt.Sprintf("%s-%06d", name, l.next.Add(1)-1))
			}
		})
	}
	stop := make(chan struct{})
	var watchdog sync.WaitGroup
	watchdog.Go(func() { l.watch(stop) })
	go func() {
		callers.Wait()
		close(stop)
		watchdog.Wait()
		close(l.done)
	}()
	t.Cleanup(func() {
		l.draining.Store(true)
		l.cancel()
		<-l.done
	})
	return l
}

// watch ends the load when no call has been answered for stallAfter.
func (l *load) watch(stop <-chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			if time.Since(time.Unix(0, l.lastAnswer.Load())) > stallAfter {
				l.stalled.Store(true)
				l.cancel()
				return
			}
		}
	}
}

// call makes one call, retrying it with the same id through the failures a fault causes.
func (l *load) call(id string) {
	pause := 50 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(l.ctx, attemptTimeout)
		var got string
		err := l.h.Call(ctx, "Counter", "exec", map[string]string{"id": id}, &got)
		cancel()
		kind := retryKind(err)
		switch {
		case err == nil:
			l.mu.Lock()
			if got == id {
				l.got[id] = true
			} else {
				l.wrong = append(l.wrong, id+" -> "+got)
			}
			l.mu.Unlock()
			l.answered.Add(1)
			l.lastAnswer.Store(time.Now().UnixNano())
			select {
			case l.progress <- struct{}{}:
			default:
			}
			return
		case kind == "" || l.ctx.Err() != nil:
			l.mu.Lock()
			l.failed[err.Error()]++
			l.mu.Unlock()
			return
		}
		l.retries.Add(1)
		l.mu.Lock()
		l.retried[kind]++
		l.mu.Unlock()
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-l.ctx.Done():
			t.Stop()
		}
		pause = min(2*pause, time.Second)
	}
}

// reach waits until k calls have been answered and reports whether they were before the
// load ended or within passed.
func (l *load) reach(k int64, within time.Duration) bool {
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for l.answered.Load() < k {
		select {
		case <-l.progress:
		case <-l.done:
			return l.answered.Load() >= k
		case <-deadline.C:
			return false
		}
	}
	return true
}

// outcome is what a load ended with.
type outcome struct {
	calls, answered int
	wrong           []string
	failed          map[string]int
	retried         map[string]int
	retries         int
	stalled         bool
	elapsed         time.Duration
	got             map[string]bool
}

// finish starts no more calls and waits for those in flight to end (answered, failed,
// or cut short by the stall watchdog or loadDeadline).
func (l *load) finish() outcome {
	l.draining.Store(true)
	<-l.done
	l.cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	return outcome{
		calls: int(l.next.Load()), answered: len(l.got), wrong: l.wrong, failed: l.failed,
		retried: l.retried, retries: int(l.retries.Load()), stalled: l.stalled.Load(),
		elapsed: time.Since(l.start), got: l.got,
	}
}

// journal is what the Counter's journal says about the ids of one load.
type journal struct {
	execs map[string]int // id -> times executed
	skips int            // requests answered from the journal instead of running again
}

func readJournal(t *testing.T, path, prefix string) journal {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("reading the Counter's journal: %v", err)
	}
	defer f.Close()
	j := journal{execs: map[string]int{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		kind, id, _ := strings.Cut(sc.Text(), " ")
		if !strings.HasPrefix(id, prefix+"-") {
			continue
		}
		switch kind {
		case "exec":
			j.execs[id]++
		case "skip":
			j.skips++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading the Counter's journal: %v", err)
	}
	return j
}

// account prints the accounting line of a fault and fails the test unless every call
// was answered with its own id and executed exactly once.
func account(t *testing.T, fault string, o outcome, j journal, afterFault int) {
	t.Helper()
	twice, unexecuted := 0, 0
	for _, n := range j.execs {
		if n > 1 {
			twice++
		}
	}
	for id := range o.got {
		if j.execs[id] == 0 {
			unexecuted++
		}
	}
	lost := o.calls - o.answered
	line := fmt.Sprintf("fault=%s calls=%d answered=%d lost=%d executed_twice=%d", fault, o.calls, o.answered, lost, twice)
	kinds := make([]string, 0, len(o.retried))
	for k, n := range o.retried {
		kinds = append(kinds, fmt.Sprintf("%s:%d", k, n))
	}
	sort.Strings(kinds)
	detail := fmt.Sprintf("fault=%s answered_after_fault=%d retries=%d (%s) journal_skips=%d wrong_answers=%d answered_unexecuted=%d stalled=%v elapsed=%v",
		fault, afterFault, o.retries, strings.Join(kinds, " "), j.skips, len(o.wrong), unexecuted, o.stalled, o.elapsed.Round(time.Millisecond))
	t.Log(line)
	t.Log(detail)
	fmt.Println(line)
	fmt.Println(detail)
	for e, n := range o.failed {
		t.Logf("fault=%s: %d calls ended with: %s", fault, n, e)
	}
	if o.answered != o.calls || lost != 0 || twice != 0 || len(o.wrong) != 0 || unexecuted != 0 {
		t.Errorf("%s: want answered=calls lost=0 executed_twice=0, and no wrong or unexecuted answers", line)
	}
	if afterFault < answersAfterFault {
		t.Errorf("fault=%s: only %d calls were answered after the fault, want %d: the system did not recover", fault, afterFault, answersAfterFault)
	}
	if len(o.wrong) > 0 {
		t.Logf("wrong answers (first few): %v", o.wrong[:min(5, len(o.wrong))])
	}
}
