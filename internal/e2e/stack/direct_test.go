package stack_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/actors"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/examples/seed"
	"github.com/at-technology/atqueue/internal/testkit/pypeer"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/registry"
	"github.com/at-technology/atqueue/wire"
)

// Calls between Go components go straight to the receiver's queue and back to the
// caller's, not through the registry: with the registry stopped they still work, while
// a process that turned direct calls off (actors.WithDirectCalls(false)) waits for the
// registry. Calls to a Python component always take the registry's route.
func TestDirectCallsNeedNoRegistry(t *testing.T) {
	url := rabbittest.VHost(t)
	ctx := deadline(t, 60*time.Second)
	reg := process(t, url)
	state := registry.WithStateFile(filepath.Join(t.TempDir(), "registry.json"))
	if _, err := reg.StartRegistry(ctx, state); err != nil {
		t.Fatal(err)
	}
	spawn(t, url, seed.IntSummator())
	caller := spawn(t, url, component.New("Caller"))
	routedSys, err := actors.New(actors.WithBroker(amqpbridge.NewBroker(url)), actors.WithDirectCalls(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = routedSys.Shutdown(context.Background()) })
	routed, err := routedSys.Spawn(ctx, component.New("RoutedCaller"))
	if err != nil {
		t.Fatal(err)
	}
	py, err := pypeer.Register(ctx, url, pypeer.RegisterBody("PySummator", wire.NewID()), pypeer.Since6ddd4b0,
		map[string]pypeer.Method{"int_sum": pypeer.IntSum})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = py.Close() })

	// The first call subscribes the caller to the directory; once it has come (its answer
	// reaches the caller before the answer to a later request), calls go directly.
	var got int
	for _, to := range []string{"IntSummator", "PySummator"} {
		if err := caller.Call(ctx, to, "int_sum", map[string]int{"a": 5, "b": 18}, &got); err != nil || got != 23 {
			t.Fatalf("%s before the registry stops: %d %v", to, got, err)
		}
	}
	if _, err := caller.Directory(ctx); err != nil {
		t.Fatal(err)
	}
	if err := reg.StopRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	if err := caller.Call(ctx, "IntSummator", "int_sum", map[string]int{"a": 5, "b": 18}, &got); err != nil || got != 23 {
		t.Fatalf("a direct call with the registry stopped: %d %v", got, err)
	}
	// Without the registry, the calls that need it cannot be answered.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err := routed.Call(short, "IntSummator", "int_sum", map[string]int{"a": 5, "b": 18}, &got); !errors.Is(err, component.ErrTimeout) {
		t.Fatalf("a routed call with the registry stopped: %v, want a timeout", err)
	}
	short2, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel2()
	if err := caller.Call(short2, "PySummator", "int_sum", map[string]int{"a": 5, "b": 18}, &got); !errors.Is(err, component.ErrTimeout) {
		t.Fatalf("a call to a Python component with the registry stopped: %v, want a timeout", err)
	}
	// Back with the registry (and its directory), the routed caller is answered: its
	// request waited.
	if _, err := reg.StartRegistry(ctx, state); err != nil {
		t.Fatal(err)
	}
	if err := routed.Call(ctx, "IntSummator", "int_sum", map[string]int{"a": 5, "b": 18}, &got); err != nil || got != 23 {
		t.Fatalf("a routed call once the registry is back: %d %v", got, err)
	}
}

// A caller that would call a Go peer directly, whose queue was deleted (its process gone
// without a word), gets the registry's answer, as a routed call would: the direct
// request comes back from the broker unroutable and goes the registry's way.
func TestDirectCallToDeletedQueueIsAnswered(t *testing.T) {
	url := rabbittest.VHost(t)
	startRegistry(t, url)
	ctx := deadline(t, 30*time.Second)
	req := spawn(t, url, component.New("Caller"))

	ghost, kill := spawnGhost(t, ctx, url)
	// The caller follows the directory, in which Ghost is a live Go peer.
	var sum int
	if err := req.Call(ctx, "Ghost", "int_sum", seed.SumArgs{A: 1, B: 2}, &sum); err != nil || sum != 3 {
		t.Fatalf("call: %d %v", sum, err)
	}
	dir, err := req.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range dir {
		if e.Name == "Ghost" && (!e.Direct || !e.Alive) {
			t.Fatalf("Ghost in the directory: %+v", e)
		}
	}

	kill() // the call below comes before the registry's liveness check (2s) finds it dead
	if _, err := rabbittest.Channel(t, url).QueueDelete(wire.RecieveQueue(ghost.SessionID()), false, false, false); err != nil {
		t.Fatal(err)
	}
	err = req.Call(ctx, "Ghost", "int_sum", seed.SumArgs{A: 1, B: 2}, &sum)
	var re *component.RemoteError
	// "its queue … does not exist"; or, should the registry's liveness check have found
	// it dead first on a slow machine, "nothing has consumed its queue": both are the
	// registry's answer, and both say the call was not run.
	if !errors.Is(err, component.ErrNotAlive) || !errors.As(err, &re) ||
		!strings.Contains(re.Items[0].Text, "does not exist") && !strings.Contains(re.Items[0].Text, "nothing has consumed") {
		t.Fatalf("direct call to a deleted queue: %v", err)
	}
}
