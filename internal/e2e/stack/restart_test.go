package stack_test

import (
	"context"
	"testing"
	"time"

	"github.com/at-technology/atqueue/actors"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/examples/seed"
	"github.com/at-technology/atqueue/internal/testkit/inject"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	amqp "github.com/rabbitmq/amqp091-go"
)

// The bridge owns its connection: restarted by its supervisor after a failure, it closes
// the connection it had, dials a new one and resumes everything it owned there (the
// registry's and the components' consumers, their sessions), so calls go on.
func TestBridgeRestartReestablishes(t *testing.T) {
	url := rabbittest.VHost(t)
	ctx := deadline(t, 60*time.Second)
	sys, err := actors.New(actors.WithBroker(amqpbridge.NewBroker(url)), actors.WithReceiverMiddleware(inject.Middleware))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := sys.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	if _, err := sys.StartRegistry(ctx); err != nil {
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
	u, _ := amqp.ParseURI(url)
	before := rabbittest.Connections(t, u.Vhost)
	if len(before) != 1 {
		t.Fatalf("connections before the restart: %v, want the bridge's one", before)
	}

	sys.Root().Send(sys.Bridge(), &inject.Fail{Reason: "the bridge fails"})
	for {
		now := rabbittest.Connections(t, u.Vhost)
		if len(now) == 1 && now[0] != before[0] {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("connections after the restart: %v (before: %v), want one new one", now, before)
		case <-time.After(50 * time.Millisecond):
		}
	}
	call("after the bridge restarted")
	if ok, err := caller.CheckRegistered(ctx, "IntSummator"); err != nil || !ok {
		t.Fatalf("directory after the restart: %v %v", ok, err)
	}
}
