package actors_test

import (
	"context"
	"errors"
	"github.com/asynkron/protoactor-go/actor"
	"testing"
	"time"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/examples/seed"
	"github.com/at-technology/atqueue/internal/testkit/inject"
)

func TestShutdownIsOrderedAndIdempotent(t *testing.T) {
	sys, err := actors.New()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := sys.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	sum, err := sys.Spawn(ctx, seed.IntSummator())
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sum.Done():
	default:
		t.Fatal("Shutdown returned before the component stopped")
	}
	if err := sys.Shutdown(ctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	if _, err := sys.Spawn(ctx, component.New("Late")); !errors.Is(err, actors.ErrShutdown) {
		t.Fatalf("Spawn after Shutdown: %v", err)
	}
	if _, err := sys.StartRegistry(ctx); !errors.Is(err, actors.ErrShutdown) {
		t.Fatalf("StartRegistry after Shutdown: %v", err)
	}
}

// The registry and the bridge are restarted by their supervisor after an injected failure
// and carry on: calls before and after succeed, and the directory is kept.
func TestInfrastructureRestartsAfterFailure(t *testing.T) {
	sys, err := actors.New(actors.WithReceiverMiddleware(inject.Middleware))
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reg, err := sys.StartRegistry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Spawn(ctx, seed.IntSummator()); err != nil {
		t.Fatal(err)
	}
	caller, err := sys.Spawn(ctx, component.New("SumRequester"))
	if err != nil {
		t.Fatal(err)
	}
	call := func(stage string) {
		t.Helper()
		var sum int
		if err := caller.Call(ctx, "IntSummator", "int_sum", seed.SumArgs{A: 5, B: 18}, &sum); err != nil || sum != 23 {
			t.Fatalf("%s: %d %v", stage, sum, err)
		}
	}
	call("before")
	for name, pid := range map[string]*actor.PID{"registry": reg, "bridge": sys.Bridge()} {
		sys.Root().Send(pid, &inject.Fail{Reason: "test"})
		call("after the " + name + " failed")
	}
	if ok, err := caller.CheckRegistered(ctx, "IntSummator"); err != nil || !ok {
		t.Fatalf("directory lost: %v %v", ok, err)
	}
}
