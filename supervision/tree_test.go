package supervision_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/at-technology/atqueue/supervision"
)

func stopTree(t *testing.T, tree *supervision.Tree) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := tree.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

func TestTreeStopsChildrenInReverseOrder(t *testing.T) {
	sys := newSystem(t)
	tree, _ := newTree(t, sys, supervision.DefaultPolicy())
	ch := notes()
	names := []string{"a", "b", "c", "d"}
	for _, name := range names {
		spawn(t, tree, name, probeProps(name, ch))
	}
	seen := map[string]bool{}
	for range names {
		n := recv(t, ch, "Started")
		if _, ok := n.msg.(*actor.Started); !ok || seen[n.name] {
			t.Fatalf("got %v, want a first Started", n)
		}
		seen[n.name] = true
	}

	stopTree(t, tree)
	// Each child has fully stopped before the next one is asked to stop.
	for i := len(names) - 1; i >= 0; i-- {
		expect(t, ch, stopping(names[i]), stopped(names[i]))
	}
	expectNone(t, ch)

	stopTree(t, tree) // idempotent
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := tree.Spawn(ctx, "late", probeProps("late", ch)); !errors.Is(err, supervision.ErrStopped) {
		t.Fatalf("Spawn after Stop: %v, want ErrStopped", err)
	}
	if err := tree.StopChild(ctx, actor.NewPID("nonhost", "tree/a")); err != nil {
		t.Fatalf("StopChild after Stop: %v", err)
	}
}

func TestTreeConcurrentStops(t *testing.T) {
	sys := newSystem(t)
	tree, _ := newTree(t, sys, supervision.DefaultPolicy())
	ch := notes()
	spawn(t, tree, "a", probeProps("a", ch))
	expect(t, ch, started("a"))

	errs := make(chan error, 4)
	for range cap(errs) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			errs <- tree.Stop(ctx)
		}()
	}
	for range cap(errs) {
		if err := recv(t, errs, "Stop result"); err != nil {
			t.Fatalf("Stop: %v", err)
		}
	}
	// Every Stop returned only after the whole tree had stopped.
	expect(t, ch, stopping("a"), stopped("a"))
}

func TestTreeStopChild(t *testing.T) {
	sys := newSystem(t)
	tree, _ := newTree(t, sys, supervision.DefaultPolicy())
	ch := notes()
	spawn(t, tree, "a", probeProps("a", ch))
	expect(t, ch, started("a"))
	b := spawn(t, tree, "b", probeProps("b", ch))
	expect(t, ch, started("b"))
	spawn(t, tree, "c", probeProps("c", ch))
	expect(t, ch, started("c"))

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := tree.StopChild(ctx, b); err != nil {
		t.Fatalf("StopChild: %v", err)
	}
	// b's Stopped ran before StopChild returned.
	select {
	case n := <-ch:
		if n.name != "b" {
			t.Fatalf("got %v, want b stopping", n)
		}
	default:
		t.Fatal("StopChild returned before b stopped")
	}
	expect(t, ch, stopped("b"))
	if err := tree.StopChild(ctx, b); err != nil {
		t.Fatalf("second StopChild: %v", err)
	}

	// The name is free again and the new child is stopped in spawn order.
	spawn(t, tree, "b", probeProps("b", ch))
	expect(t, ch, started("b"))
	stopTree(t, tree)
	expect(t, ch, stopping("b"), stopped("b"), stopping("c"), stopped("c"), stopping("a"), stopped("a"))
}

func TestTreeSpawnErrors(t *testing.T) {
	sys := newSystem(t)
	tree, _ := newTree(t, sys, supervision.DefaultPolicy())
	ch := notes()
	spawn(t, tree, "a", probeProps("a", ch))
	expect(t, ch, started("a"))

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := tree.Spawn(ctx, "a", probeProps("a", ch)); !errors.Is(err, actor.ErrNameExists) {
		t.Errorf("duplicate Spawn: %v, want ErrNameExists", err)
	}
	guarded := probeProps("g", ch).Configure(actor.WithGuardian(actor.DefaultSupervisorStrategy()))
	if _, err := tree.Spawn(ctx, "g", guarded); err == nil {
		t.Errorf("Spawn with guardian props succeeded, want error")
	}
	canceled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	if _, err := tree.Spawn(canceled, "x", probeProps("x", ch)); !errors.Is(err, context.Canceled) {
		// The tree may answer first; either way the call must not hang.
		if err != nil {
			t.Errorf("Spawn with canceled ctx: %v", err)
		}
	}

	if _, err := supervision.NewTree(sys.Root, "tree", supervision.DefaultPolicy(), nil); !errors.Is(err, actor.ErrNameExists) {
		t.Errorf("NewTree with taken name: %v, want ErrNameExists", err)
	}
	if _, err := supervision.NewTree(sys.Root, "bad", supervision.Policy{MaxRestarts: -1}, nil); !errors.Is(err, supervision.ErrInvalidPolicy) {
		t.Errorf("NewTree with invalid policy: %v, want ErrInvalidPolicy", err)
	}
}

func TestTreeEscalateRestartsTreeAndRespawnsChildren(t *testing.T) {
	sys := newSystem(t)
	p := supervision.DefaultPolicy()
	p.Decide = func(reason any) supervision.Directive {
		if reason == "escalate" {
			return supervision.Escalate
		}
		return supervision.Restart
	}
	tree, events := newTree(t, sys, p)
	chA, chB := notes(), notes()
	a := spawn(t, tree, "a", probeProps("a", chA))
	b := spawn(t, tree, "b", probeProps("b", chB))
	expect(t, chA, started("a"))
	expect(t, chB, started("b"))
	sys.Root.Send(a, incr{})

	sys.Root.Send(b, crash{reason: "escalate"})
	expectEvent(t, events, b, supervision.Escalate, 0)
	expect(t, chA, stopping("a"), stopped("a"), started("a"))
	expect(t, chB, stopping("b"), stopped("b"), started("b"))

	// The old PIDs reach the respawned children.
	if n := count(t, sys, a); n != 0 {
		t.Errorf("count after respawn = %d, want 0", n)
	}
	sys.Root.Send(b, crash{reason: "boom"})
	expectEvent(t, events, b, supervision.Restart, 1)
	expect(t, chB, restarting("b"), started("b"))

	stopTree(t, tree)
	expect(t, chB, stopping("b"), stopped("b"))
	expect(t, chA, stopping("a"), stopped("a"))
}

func TestTreeStopWhileChildFails(t *testing.T) {
	sys := newSystem(t)
	b := supervision.Backoff{Initial: time.Millisecond, Max: time.Millisecond}
	tree, _ := newTree(t, sys, supervision.Policy{MaxRestarts: 1000, Within: time.Minute, Backoff: b})
	ch := notes()
	pids := make([]*actor.PID, 3)
	for i, name := range []string{"a", "b", "c"} {
		pids[i] = spawn(t, tree, name, probeProps(name, ch))
	}
	for _, pid := range pids {
		for range 20 {
			sys.Root.Send(pid, crash{reason: "boom"})
		}
	}
	stopTree(t, tree)
	stoppedNames := map[string]bool{}
	for {
		select {
		case n := <-ch:
			if _, ok := n.msg.(*actor.Stopped); ok {
				stoppedNames[n.name] = true
			}
			continue
		default:
		}
		break
	}
	if len(stoppedNames) != 3 {
		t.Fatalf("stopped children = %v, want a, b and c", stoppedNames)
	}
}

func TestTreeStoppedByItsOwnSupervisor(t *testing.T) {
	sys := newSystem(t)
	p := supervision.DefaultPolicy()
	p.Decide = func(any) supervision.Directive { return supervision.Escalate }
	tree, events := newTree(t, sys, p)
	ch := notes()
	pid := spawn(t, tree, "a", probeProps("a", ch))
	expect(t, ch, started("a"))

	// The root's default strategy restarts the tree 10 times within 10s, then stops it.
	for i := 1; i <= 11; i++ {
		sys.Root.Send(pid, crash{reason: "escalate"})
		expectEvent(t, events, pid, supervision.Escalate, 0)
		expect(t, ch, stopping("a"), stopped("a"))
		if i <= 10 {
			expect(t, ch, started("a"))
		}
	}

	stopTree(t, tree)
	expectNone(t, ch)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := tree.Spawn(ctx, "late", probeProps("late", ch)); !errors.Is(err, supervision.ErrStopped) {
		t.Fatalf("Spawn after the tree stopped: %v, want ErrStopped", err)
	}
}

// A one-for-one tree governs a child spawned with a policy of its own by that policy: here
// a sibling under the tree's (generous) policy keeps restarting while the child with a
// zero policy stops on its first failure.
func TestTreeChildPolicy(t *testing.T) {
	sys := newSystem(t)
	tree, events := newTree(t, sys, supervision.Policy{MaxRestarts: 5, Within: time.Minute})
	chA, chB := notes(), notes()
	a := spawn(t, tree, "a", probeProps("a", chA))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	b, err := tree.SpawnChild(ctx, "b", probeProps("b", chB), supervision.Child{Policy: &supervision.Policy{}})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, chA, started("a"))
	expect(t, chB, started("b"))
	sys.Root.Send(a, crash{reason: "boom"})
	expectEvent(t, events, a, supervision.Restart, 1)
	expect(t, chA, restarting("a"), started("a"))
	sys.Root.Send(b, crash{reason: "boom"})
	expectEvent(t, events, b, supervision.Stop, 1)
	expect(t, chB, stopping("b"), stopped("b"))
	if _, err := tree.SpawnChild(ctx, "c", probeProps("c", notes()), supervision.Child{Policy: &supervision.Policy{MaxRestarts: -1}}); !errors.Is(err, supervision.ErrInvalidPolicy) {
		t.Errorf("SpawnChild with an invalid policy: %v", err)
	}
}

// A branch: a tree under a tree. The branch's all-for-one policy restarts its children
// together, the parent's one-for-one children are not touched, and stopping the parent
// stops the branch and its children.
func TestTreeBranch(t *testing.T) {
	sys := newSystem(t)
	root, _ := newTree(t, sys, supervision.Policy{MaxRestarts: 5, Within: time.Minute})
	events := make(chan supervision.Event, 16)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	group, err := root.NewTree(ctx, "group", supervision.Policy{MaxRestarts: 3, Within: time.Minute, AllForOne: true},
		func(e supervision.Event) { events <- e })
	if err != nil {
		t.Fatal(err)
	}
	chSolo, chA, chB := notes(), notes(), notes()
	spawn(t, root, "solo", probeProps("solo", chSolo))
	a := spawn(t, group, "a", probeProps("a", chA))
	spawn(t, group, "b", probeProps("b", chB))
	expect(t, chSolo, started("solo"))
	expect(t, chA, started("a"))
	expect(t, chB, started("b"))
	if got := group.PID().Id; got != root.PID().Id+"/group" {
		t.Errorf("the branch's PID is %s, want it under %s", got, root.PID().Id)
	}

	sys.Root.Send(a, crash{reason: "boom"})
	expectEvent(t, events, a, supervision.Restart, 1)
	expect(t, chA, restarting("a"), started("a"))
	expect(t, chB, restarting("b"), started("b"))
	expectNone(t, chSolo)

	if err := root.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []chan note{chA, chB} {
		got := recv(t, ch, "stopping")
		if _, ok := got.msg.(*actor.Stopping); !ok {
			t.Fatalf("got %v, want a stop", got)
		}
	}
	if err := group.Stop(ctx); err != nil {
		t.Errorf("stopping a branch already stopped with its parent: %v", err)
	}
}
