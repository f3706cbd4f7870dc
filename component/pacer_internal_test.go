package component

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// pacerRig is a pacer and members that report each checkDue they get.
type pacerRig struct {
	t     *testing.T
	sys   *actor.ActorSystem
	pacer *actor.PID
	got   chan int // the member's index, one per checkDue
}

func newPacerRig(t *testing.T, rate float64) *pacerRig {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet }))
	r := &pacerRig{t: t, sys: sys, got: make(chan int, 1000)}
	r.pacer = sys.Root.Spawn(CheckPacerProps(rate))
	t.Cleanup(func() {
		_ = sys.Root.StopFuture(r.pacer).Wait()
		sys.Shutdown()
	})
	return r
}

// members spawns n members, each asking for a check after after.
func (r *pacerRig) members(n int, after time.Duration) []*actor.PID {
	pids := make([]*actor.PID, n)
	for i := range n {
		pids[i] = r.sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
			if _, ok := c.Message().(*checkDue); ok {
				r.got <- i
			}
		}))
		r.sys.Root.Send(r.pacer, &checkAt{pid: pids[i], after: after})
	}
	return pids
}

// next waits for the next grant.
func (r *pacerRig) next(within time.Duration) int {
	r.t.Helper()
	select {
	case i := <-r.got:
		return i
	case <-time.After(within):
		r.t.Fatalf("no check granted within %v", within)
		return -1
	}
}

// The checks of many components go no faster than the rate, each once.
func TestPacerKeepsToItsRate(t *testing.T) {
	r := newPacerRig(t, 20)
	r.members(30, 0)
	start := time.Now()
	seen := map[int]bool{}
	for range 11 {
		i := r.next(10 * time.Second)
		if seen[i] {
			t.Fatalf("member %d granted twice", i)
		}
		seen[i] = true
	}
	// One token at the start, then one every 50ms: the 11th grant comes 500ms later at
	// the earliest.
	if d := time.Since(start); d < 450*time.Millisecond {
		t.Fatalf("11 checks granted in %v at 20 a second", d)
	}
}

// A forgotten component has every waiting check granted at once (at the rush rate),
// except those of components that stopped.
func TestPacerChecksAllWhenOneIsForgotten(t *testing.T) {
	r := newPacerRig(t, 5)
	pids := r.members(30, time.Hour)
	r.sys.Root.Send(r.pacer, &checkOff{pid: pids[7]})
	r.sys.Root.Send(r.pacer, &checkAllNow{})
	seen := map[int]bool{}
	for range 29 {
		seen[r.next(10*time.Second)] = true
	}
	if seen[7] {
		t.Fatal("a stopped member was granted a check")
	}
	if len(seen) != 29 {
		t.Fatalf("%d distinct members granted, want 29", len(seen))
	}
	// Further forgotten reports within the gap change nothing: nobody waits now.
	r.sys.Root.Send(r.pacer, &checkAllNow{})
	r.sys.Root.Send(r.pacer, &checkAt{pid: pids[0], after: 0})
	if i := r.next(10 * time.Second); i != 0 {
		t.Fatalf("granted %d, want 0", i)
	}
	select {
	case i := <-r.got:
		t.Fatalf("member %d granted a check nobody asked for", i)
	case <-time.After(200 * time.Millisecond):
	}
}
