package actors_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/examples/seed"
	"github.com/at-technology/atqueue/internal/testkit/inject"
	"github.com/at-technology/atqueue/supervision"
)

// counted is a component that counts its starts (OnStart runs at every restart).
func counted(name string, starts *atomic.Int32) *component.Component {
	c := component.New(name, component.OnStart(func(context.Context) error { starts.Add(1); return nil }))
	component.Method(c, "int_sum", func(_ context.Context, in seed.SumArgs) (int, error) { return 0, nil })
	return c
}

func waitFor(t *testing.T, ctx context.Context, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: not within the test's deadline", what)
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// One supervision tree: a group of components restarts together (all-for-one) when one
// of them fails, while a component outside the group is not touched (one-for-one).
func TestGroupRestartsTogether(t *testing.T) {
	sys, err := actors.New(actors.WithReceiverMiddleware(inject.Middleware))
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := sys.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	group, err := sys.NewGroup(ctx, "pair", supervision.Policy{MaxRestarts: 3, Within: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var aStarts, bStarts, soloStarts atomic.Int32
	a, err := group.Spawn(ctx, counted("A", &aStarts))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := group.Spawn(ctx, counted("B", &bStarts)); err != nil {
		t.Fatal(err)
	}
	solo, err := sys.Spawn(ctx, counted("Solo", &soloStarts))
	if err != nil {
		t.Fatal(err)
	}
	caller, err := sys.Spawn(ctx, component.New("Caller"))
	if err != nil {
		t.Fatal(err)
	}

	sys.Root().Send(a.PID(), &inject.Fail{Reason: "A's state is broken"})
	waitFor(t, ctx, "A and B restarted", func() bool { return aStarts.Load() == 2 && bStarts.Load() == 2 })
	// Both serve again, under the same names and sessions.
	for _, name := range []string{"A", "B"} {
		if err := caller.Ping(ctx, name); err != nil {
			t.Fatalf("%s after the group restart: %v", name, err)
		}
	}
	sys.Root().Send(solo.PID(), &inject.Fail{Reason: "Solo fails alone"})
	waitFor(t, ctx, "Solo restarted", func() bool { return soloStarts.Load() == 2 })
	if n := aStarts.Load(); n != 2 {
		t.Errorf("A started %d times after Solo failed, want 2: one-for-one outside the group", n)
	}
}

// A component whose actor restarts keeps its pending calls: the answer that comes after
// the restart still reaches the caller waiting for it.
func TestRestartKeepsPendingCalls(t *testing.T) {
	sys, err := actors.New(actors.WithReceiverMiddleware(inject.Middleware))
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := sys.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	release, running := make(chan struct{}), make(chan struct{})
	slow := component.New("Slow")
	component.Method(slow, "wait", func(context.Context, struct{}) (int, error) {
		close(running)
		<-release
		return 42, nil
	})
	if _, err := sys.Spawn(ctx, slow); err != nil {
		t.Fatal(err)
	}
	var starts atomic.Int32
	caller, err := sys.Spawn(ctx, counted("Caller", &starts))
	if err != nil {
		t.Fatal(err)
	}
	result := make(chan error, 1)
	var got int
	go func() { result <- caller.Call(ctx, "Slow", "wait", nil, &got) }()
	<-running
	sys.Root().Send(caller.PID(), &inject.Fail{Reason: "the caller's actor fails while it waits"})
	waitFor(t, ctx, "the caller restarted", func() bool { return starts.Load() == 2 })
	close(release)
	if err := <-result; err != nil || got != 42 {
		t.Fatalf("the call across the restart: %d, %v", got, err)
	}
}
