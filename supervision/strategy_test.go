package supervision_test

import (
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/at-technology/atqueue/supervision"
)

func TestRestartsThenStopsWhenIntensityExceeded(t *testing.T) {
	sys := newSystem(t)
	const maxRestarts = 3
	tree, events := newTree(t, sys, supervision.Policy{MaxRestarts: maxRestarts, Within: time.Minute})
	ch := notes()
	pid := spawn(t, tree, "worker", probeProps("worker", ch))
	expect(t, ch, started("worker"))

	for i := 1; i <= maxRestarts; i++ {
		sys.Root.Send(pid, crash{reason: "boom"})
		ev := expectEvent(t, events, pid, supervision.Restart, i)
		if ev.Reason != "boom" || ev.Delay != 0 {
			t.Fatalf("event %d: Reason %v, Delay %v; want boom, 0", i, ev.Reason, ev.Delay)
		}
		expect(t, ch, restarting("worker"), started("worker"))
	}

	sys.Root.Send(pid, crash{reason: "boom"})
	expectEvent(t, events, pid, supervision.Stop, maxRestarts+1)
	expect(t, ch, stopping("worker"), stopped("worker"))
}

func TestZeroPolicyStopsOnFirstFailure(t *testing.T) {
	sys := newSystem(t)
	tree, events := newTree(t, sys, supervision.Policy{})
	ch := notes()
	pid := spawn(t, tree, "worker", probeProps("worker", ch))
	expect(t, ch, started("worker"))

	sys.Root.Send(pid, crash{reason: "boom"})
	expectEvent(t, events, pid, supervision.Stop, 1)
	expect(t, ch, stopping("worker"), stopped("worker"))
}

func TestWindowSlides(t *testing.T) {
	sys := newSystem(t)
	const within = 100 * time.Millisecond
	tree, events := newTree(t, sys, supervision.Policy{MaxRestarts: 1, Within: within})
	ch := notes()
	pid := spawn(t, tree, "worker", probeProps("worker", ch))
	expect(t, ch, started("worker"))

	for range 2 {
		sys.Root.Send(pid, crash{reason: "boom"})
		expectEvent(t, events, pid, supervision.Restart, 1)
		expect(t, ch, restarting("worker"), started("worker"))
		<-time.After(within) // the property under test: the earlier failure leaves the window
	}
	sys.Root.Send(pid, crash{reason: "boom"})
	expectEvent(t, events, pid, supervision.Restart, 1)
	expect(t, ch, restarting("worker"), started("worker"))
	sys.Root.Send(pid, crash{reason: "boom"})
	expectEvent(t, events, pid, supervision.Stop, 2)
	expect(t, ch, stopping("worker"), stopped("worker"))
}

func TestBackoffDelayIsApplied(t *testing.T) {
	sys := newSystem(t)
	b := supervision.Backoff{Initial: 50 * time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: 0.5}
	tree, events := newTree(t, sys, supervision.Policy{MaxRestarts: 5, Within: time.Minute, Backoff: b})
	ch := notes()
	pid := spawn(t, tree, "worker", probeProps("worker", ch))
	expect(t, ch, started("worker"))

	for i, ceiling := range []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond} {
		t0 := time.Now()
		sys.Root.Send(pid, crash{reason: "boom"})
		ev := expectEvent(t, events, pid, supervision.Restart, i+1)
		if floor := time.Duration(float64(ceiling) * (1 - b.Jitter)); ev.Delay < floor || ev.Delay > ceiling {
			t.Fatalf("restart %d: Delay %v, want within [%v, %v]", i+1, ev.Delay, floor, ceiling)
		}
		expect(t, ch, restarting("worker"))
		if n := expect(t, ch, started("worker")); n.at.Sub(t0) < ev.Delay {
			t.Fatalf("restart %d: Started after %v, before the delay %v", i+1, n.at.Sub(t0), ev.Delay)
		}
	}
}

func TestDecide(t *testing.T) {
	sys := newSystem(t)
	p := supervision.Policy{
		MaxRestarts: 5,
		Within:      time.Minute,
		Decide: func(reason any) supervision.Directive {
			switch reason {
			case "fatal":
				return supervision.Stop
			case "glitch":
				return supervision.Resume
			case "odd":
				return supervision.Directive(42)
			}
			return supervision.Restart
		},
	}
	tree, events := newTree(t, sys, p)
	ch := notes()
	pid := spawn(t, tree, "worker", probeProps("worker", ch))
	expect(t, ch, started("worker"))

	sys.Root.Send(pid, incr{})
	sys.Root.Send(pid, incr{})
	sys.Root.Send(pid, crash{reason: "glitch"})
	expectEvent(t, events, pid, supervision.Resume, 0)
	if n := count(t, sys, pid); n != 2 {
		t.Fatalf("count after Resume = %d, want 2 (state kept)", n)
	}
	expectNone(t, ch)

	sys.Root.Send(pid, crash{reason: "other"})
	expectEvent(t, events, pid, supervision.Restart, 1)
	expect(t, ch, restarting("worker"), started("worker"))

	sys.Root.Send(pid, crash{reason: "fatal"})
	expectEvent(t, events, pid, supervision.Stop, 0)
	expect(t, ch, stopping("worker"), stopped("worker"))

	other := spawn(t, tree, "other", probeProps("other", ch))
	expect(t, ch, started("other"))
	sys.Root.Send(other, crash{reason: "odd"})
	expectEvent(t, events, other, supervision.Stop, 0)
	expect(t, ch, stopping("other"), stopped("other"))
}

func TestOneForOneSiblingKeepsState(t *testing.T) {
	sys := newSystem(t)
	tree, events := newTree(t, sys, supervision.DefaultPolicy())
	chA, chB := notes(), notes()
	a := spawn(t, tree, "a", probeProps("a", chA))
	b := spawn(t, tree, "b", probeProps("b", chB))
	expect(t, chA, started("a"))
	expect(t, chB, started("b"))

	for range 3 {
		sys.Root.Send(a, incr{})
	}
	sys.Root.Send(b, incr{})
	sys.Root.Send(b, crash{reason: "boom"})
	expectEvent(t, events, b, supervision.Restart, 1)
	expect(t, chB, restarting("b"), started("b"))

	if n := count(t, sys, a); n != 3 {
		t.Errorf("sibling count = %d, want 3", n)
	}
	if n := count(t, sys, b); n != 0 {
		t.Errorf("restarted child count = %d, want 0", n)
	}
	expectNone(t, chA)
}

func TestAllForOne(t *testing.T) {
	sys := newSystem(t)
	tree, events := newTree(t, sys, supervision.Policy{MaxRestarts: 1, Within: time.Minute, AllForOne: true})
	chA, chB := notes(), notes()
	a := spawn(t, tree, "a", probeProps("a", chA))
	b := spawn(t, tree, "b", probeProps("b", chB))
	expect(t, chA, started("a"))
	expect(t, chB, started("b"))

	for range 3 {
		sys.Root.Send(a, incr{})
	}
	if n := count(t, sys, a); n != 3 {
		t.Fatalf("count = %d, want 3", n)
	}
	sys.Root.Send(b, crash{reason: "boom"})
	expectEvent(t, events, b, supervision.Restart, 1)
	expect(t, chA, restarting("a"), started("a"))
	expect(t, chB, restarting("b"), started("b"))
	if n := count(t, sys, a); n != 0 {
		t.Errorf("sibling count after all-for-one restart = %d, want 0", n)
	}

	// Intensity is counted for the group: a's first failure is the group's second.
	sys.Root.Send(a, crash{reason: "boom"})
	expectEvent(t, events, a, supervision.Stop, 2)
	expect(t, chA, stopping("a"), stopped("a"))
	expect(t, chB, stopping("b"), stopped("b"))
}

func TestAllForOneBackoffRestartsAllAfterDelay(t *testing.T) {
	sys := newSystem(t)
	b := supervision.Backoff{Initial: 30 * time.Millisecond, Max: time.Second}
	tree, events := newTree(t, sys, supervision.Policy{MaxRestarts: 3, Within: time.Minute, AllForOne: true, Backoff: b})
	chA, chB := notes(), notes()
	a := spawn(t, tree, "a", probeProps("a", chA))
	spawn(t, tree, "b", probeProps("b", chB))
	expect(t, chA, started("a"))
	expect(t, chB, started("b"))

	t0 := time.Now()
	sys.Root.Send(a, crash{reason: "boom"})
	ev := expectEvent(t, events, a, supervision.Restart, 1)
	if ev.Delay != b.Initial {
		t.Fatalf("Delay = %v, want %v", ev.Delay, b.Initial)
	}
	for _, c := range []struct {
		ch   chan note
		name string
	}{{chA, "a"}, {chB, "b"}} {
		if n := expect(t, c.ch, restarting(c.name)); n.at.Sub(t0) < ev.Delay {
			t.Fatalf("%s restarted after %v, before the delay %v", c.name, n.at.Sub(t0), ev.Delay)
		}
		expect(t, c.ch, started(c.name))
	}
}

func TestStopCancelsPendingRestart(t *testing.T) {
	sys := newSystem(t)
	deadLetters := make(chan any, 64)
	sub := sys.EventStream.Subscribe(func(evt any) {
		if dl, ok := evt.(*actor.DeadLetterEvent); ok {
			deadLetters <- dl.Message
		}
	})
	t.Cleanup(func() { sys.EventStream.Unsubscribe(sub) })

	// Long enough that Stop always wins against the timer.
	b := supervision.Backoff{Initial: 400 * time.Millisecond, Max: time.Second}
	tree, events := newTree(t, sys, supervision.Policy{MaxRestarts: 3, Within: time.Minute, Backoff: b})
	ch := notes()
	pid := spawn(t, tree, "worker", probeProps("worker", ch))
	expect(t, ch, started("worker"))

	sys.Root.Send(pid, crash{reason: "boom"})
	ev := expectEvent(t, events, pid, supervision.Restart, 1)
	stopTree(t, tree)
	expect(t, ch, stopping("worker"), stopped("worker"))

	// Had the timer survived, its Restart would reach the dead child as a dead letter.
	<-time.After(ev.Delay + 50*time.Millisecond)
	expectNone(t, ch)
	expectNone(t, deadLetters)
}

func TestStrategyWithOwnParent(t *testing.T) {
	sys := newSystem(t)
	events := make(chan supervision.Event, 8)
	strategy := supervision.Policy{MaxRestarts: 1, Within: time.Minute}.Strategy(func(e supervision.Event) { events <- e })
	ch := notes()
	kids := make(chan *actor.PID, 1)
	parentProps := actor.PropsFromFunc(func(c actor.Context) {
		if _, ok := c.Message().(*actor.Started); ok {
			kids <- c.Spawn(probeProps("kid", ch))
		}
	}, actor.WithSupervisor(strategy))
	parent := sys.Root.Spawn(parentProps)
	kid := recv(t, kids, "child pid")
	expect(t, ch, started("kid"))

	sys.Root.Send(kid, crash{reason: "boom"})
	expectEvent(t, events, kid, supervision.Restart, 1)
	expect(t, ch, restarting("kid"), started("kid"))
	sys.Root.Send(kid, crash{reason: "boom"})
	expectEvent(t, events, kid, supervision.Stop, 2)
	expect(t, ch, stopping("kid"), stopped("kid"))

	if err := sys.Root.StopFuture(parent).Wait(); err != nil {
		t.Fatalf("stop parent: %v", err)
	}
}
