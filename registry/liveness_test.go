package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/metrics"
	"github.com/at-technology/atqueue/registry"
	"github.com/at-technology/atqueue/wire"
)

// A component registered by a peer that then vanished (nothing consumes its queue) is
// reported not alive, and calls to it fail at once instead of waiting for their deadline.
func TestDeadComponentFailsFast(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, caller := startWithGhost(ctx, t, 50*time.Millisecond)

	for {
		raw, err := caller.Inspect(ctx, "Ghost")
		if err == nil {
			var rec struct {
				Broker struct {
					SessionID string `json:"session_id"`
					Alive     *bool  `json:"alive"`
				} `json:"broker"`
			}
			if json.Unmarshal(raw, &rec) != nil || rec.Broker.SessionID != wire.SessionID("Ghost") {
				t.Fatalf("inspect: %s", raw)
			}
			if rec.Broker.Alive != nil && !*rec.Broker.Alive {
				break
			}
		} else if !errors.Is(err, component.ErrUnknownComponent) {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
			t.Fatal("Ghost was never reported dead")
		case <-time.After(5 * time.Millisecond):
		}
	}
	begin := time.Now()
	err := caller.Call(ctx, "Ghost", "anything", nil, nil)
	if !errors.Is(err, component.ErrNotAlive) {
		t.Fatalf("err = %v, want ErrNotAlive", err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Fatalf("the dead target took %v to fail", d)
	}
}

// startWithGhost starts a system on the embedded broker (its actors wrapped in mw), a
// registry that probes every 5ms and finds a component dead after deadAfter (its start
// grace too), and a component "Caller"; then a peer registers "Ghost" the way a Python
// component does, and never consumes its queue. The system stops with the test.
func startWithGhost(ctx context.Context, t *testing.T, deadAfter time.Duration, mw ...actor.ReceiverMiddleware) (*bridge.Embedded, *component.Handle) {
	t.Helper()
	emb := bridge.NewEmbedded()
	sys, err := actors.New(actors.WithBroker(emb), actors.WithReceiverMiddleware(mw...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sys.Shutdown(context.Background()) })
	if _, err := sys.StartRegistry(ctx, registry.WithLiveness(5*time.Millisecond, deadAfter), registry.WithStartGrace(deadAfter)); err != nil {
		t.Fatal(err)
	}
	caller, err := sys.Spawn(ctx, component.New("Caller"))
	if err != nil {
		t.Fatal(err)
	}
	registerGhost(emb)
	return emb, caller
}

// registerGhost registers "Ghost" on emb the way a Python peer does: on the registry's
// queue, with no instance.
func registerGhost(emb *bridge.Embedded) {
	reg := wire.Envelope{Sender: "Ghost", Reciever: wire.RegistryName, MessageID: wire.NewID(),
		Message: json.RawMessage(`{"type": "register", "component": {"name": "Ghost", "description": null, "methods": {}}}`)}
	body, _ := reg.Marshal()
	emb.Publish(wire.SendQueue(wire.RegistrySession), body, nil, nil)
}

// The directory (a Go extension) lists every component with its liveness, method count
// and registration time; a component that stops consuming is reported not alive.
func TestDirectory(t *testing.T) {
	emb := bridge.NewEmbedded()
	sys, ctx := startRegistry(t, []actors.Option{actors.WithBroker(emb)},
		registry.WithLiveness(5*time.Millisecond, 50*time.Millisecond), registry.WithStartGrace(50*time.Millisecond))
	if _, err := sys.Spawn(ctx, summator()); err != nil {
		t.Fatal(err)
	}
	caller, err := sys.Spawn(ctx, component.New("Caller"))
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	registerGhost(emb)
	for {
		dir, err := caller.Directory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]wire.DirectoryEntry{}
		for _, e := range dir {
			byName[e.Name] = e
		}
		s, g := byName["IntSummator"], byName["Ghost"]
		if s.Name == "" || s.Methods != 1 || !s.Go || s.SessionID != wire.SessionID("IntSummator") {
			t.Fatalf("IntSummator in the directory: %+v", s)
		}
		at, err := time.Parse(time.RFC3339Nano, s.RegisteredAt)
		if err != nil || at.Before(before) {
			t.Fatalf("registered_at %q: %v", s.RegisteredAt, err)
		}
		if g.Name != "" && !g.Alive && !g.Go && s.Alive && s.Consumers == 1 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the directory never showed Ghost dead and IntSummator alive: %+v", dir)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// The queue of a dead component is read only when its probe finds something waiting:
// an empty one is probed and left alone, and a request that arrives in it is drained
// (and answered) at the next probe.
func TestDeadComponentEmptyQueueIsNotDrained(t *testing.T) {
	var probes, drains atomic.Int64
	ghostQueue := wire.RecieveQueue(wire.SessionID("Ghost"))
	count := func(next actor.ReceiverFunc) actor.ReceiverFunc {
		return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
			switch m := env.Message.(type) {
			case *bridge.Probe:
				if m.Queue == ghostQueue {
					probes.Add(1)
				}
			case *bridge.Drain:
				if m.Queue == ghostQueue {
					drains.Add(1)
				}
			}
			next(c, env)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	emb, caller := startWithGhost(ctx, t, 20*time.Millisecond, count)

	// Dead (start grace and dead-after are tens of milliseconds), then probed many times.
	wait := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			select {
			case <-ctx.Done():
				t.Fatalf("never: %s (probes %d, drains %d)", what, probes.Load(), drains.Load())
			case <-time.After(2 * time.Millisecond):
			}
		}
	}
	wait("Ghost reported dead", func() bool { // inspect puts nothing in Ghost's queue
		raw, err := caller.Inspect(ctx, "Ghost")
		var rec struct {
			Broker struct {
				Alive *bool `json:"alive"`
			} `json:"broker"`
		}
		return err == nil && json.Unmarshal(raw, &rec) == nil && rec.Broker.Alive != nil && !*rec.Broker.Alive
	})
	seen := probes.Load()
	wait("20 more probes of Ghost's queue", func() bool { return probes.Load() >= seen+20 })
	if n := drains.Load(); n != 0 {
		t.Fatalf("Ghost's empty queue was read %d times in %d probes", n, probes.Load())
	}

	// A request that waits in the queue is read at the next probe.
	req := wire.Envelope{Sender: "Caller", Reciever: "Ghost", MessageID: wire.NewID(),
		Message: json.RawMessage(`{"type": "method", "method": "anything", "args": {}}`)}
	body, _ := req.Marshal()
	emb.Publish(ghostQueue, body, nil, nil)
	wait("the waiting request drained", func() bool { return drains.Load() > 0 })
}

// slowRound starts a registry that probes in the background once a second, with 60
// idle components (about a minute a round), and Ghost, registered as a Python peer does
// and seen consuming its queue; mw sees every actor's messages.
func slowRound(t *testing.T, mw ...actor.ReceiverMiddleware) (context.Context, *actors.System, *bridge.Embedded, bridge.Subscription, *component.Handle) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	emb := bridge.NewEmbedded()
	sys, err := actors.New(actors.WithBroker(emb), actors.WithReceiverMiddleware(mw...), actors.WithMetrics(metrics.New()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Shutdown(context.Background()) })
	if _, err := sys.StartRegistry(ctx, registry.WithLiveness(50*time.Millisecond, 50*time.Millisecond),
		registry.WithStartGrace(50*time.Millisecond), registry.WithProbeRate(1)); err != nil {
		t.Fatal(err)
	}
	for i := range 60 {
		if _, err := sys.Spawn(ctx, component.New(fmt.Sprintf("Filler%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	caller, err := sys.Spawn(ctx, component.New("Caller"))
	if err != nil {
		t.Fatal(err)
	}
	sid := wire.SessionID("Ghost")
	if err := emb.DeclareSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	sub, err := emb.Consume(ctx, wire.RecieveQueue(sid), 1, func(*bridge.Delivery) {})
	if err != nil {
		t.Fatal(err)
	}
	registerGhost(emb)
	awaitGhost(ctx, t, caller, func(e wire.DirectoryEntry) bool { return e.Consumers == 1 }, "seen consuming its queue")
	return ctx, sys, emb, sub, caller
}

// awaitGhost waits until the directory's entry of Ghost satisfies ok.
func awaitGhost(ctx context.Context, t *testing.T, caller *component.Handle, ok func(wire.DirectoryEntry) bool, what string) {
	t.Helper()
	await(ctx, t, func() bool {
		dir, err := caller.Directory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range dir {
			if e.Name == "Ghost" && ok(e) {
				return true
			}
		}
		return false
	}, func() string { return "Ghost was never " + what })
}

// callUntilNotAlive calls Ghost until a call fails as not alive.
func callUntilNotAlive(ctx context.Context, t *testing.T, caller *component.Handle) {
	t.Helper()
	for {
		callCtx, stop := context.WithTimeout(ctx, 300*time.Millisecond)
		err := caller.Call(callCtx, "Ghost", "anything", nil, nil)
		stop()
		if errors.Is(err, component.ErrNotAlive) {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("calls to Ghost, dead, never failed as not alive: %v", err)
		}
	}
}

// A request routed to a component whose last probe is older than probeEvery probes it at
// once: with more components than WithProbeRate allows in probeEvery the background round
// is slow, and the callers of a component that died must not wait for it.
func TestRoutedRequestProbesStaleTarget(t *testing.T) {
	ctx, _, _, sub, caller := slowRound(t)
	if err := sub.Cancel(); err != nil {
		t.Fatal(err)
	}
	callUntilNotAlive(ctx, t, caller)
}

// A component found dead that consumes its queue again is probed by the next request
// routed to it, not a background round later: a probe that came while its consumer was
// away (a reconnect) must not keep its callers out for a minute.
func TestCalledDeadComponentIsProbedAgain(t *testing.T) {
	ctx, _, emb, sub, caller := slowRound(t)
	if err := sub.Cancel(); err != nil {
		t.Fatal(err)
	}
	callUntilNotAlive(ctx, t, caller)
	back, err := emb.Consume(ctx, wire.RecieveQueue(wire.SessionID("Ghost")), 1, func(*bridge.Delivery) {})
	if err != nil {
		t.Fatal(err)
	}
	defer back.Cancel()
	for alive := false; !alive; {
		callCtx, stop := context.WithTimeout(ctx, 20*time.Millisecond)
		_ = caller.Call(callCtx, "Ghost", "anything", nil, nil) // answered not alive, or waits
		stop()
		dir, err := caller.Directory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range dir {
			alive = alive || e.Name == "Ghost" && e.Alive
		}
		if !alive && ctx.Err() != nil {
			t.Fatal("Ghost consumes again, and calls to it never found it alive")
		}
	}
}

// A component called directly is probed like one called through the registry, when its
// caller reports the calls: the background round does not come for a minute.
func TestReportedDirectCallsProbeTheirReceiver(t *testing.T) {
	var probes atomic.Int64
	target := wire.RecieveQueue(wire.SessionID("IntSummator"))
	count := func(next actor.ReceiverFunc) actor.ReceiverFunc {
		return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
			if m, ok := env.Message.(*bridge.Probe); ok && m.Queue == target {
				probes.Add(1)
			}
			next(c, env)
		}
	}
	ctx, sys, _, _, caller := slowRound(t, count)
	if _, err := sys.Spawn(ctx, summator()); err != nil {
		t.Fatal(err)
	}
	// The first call subscribes the caller to the directory; after Directory, calls to
	// IntSummator go directly.
	if err := caller.Call(ctx, "IntSummator", "int_sum", sumArgs{2, 3}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := caller.Directory(ctx); err != nil {
		t.Fatal(err)
	}
	before := probes.Load()
	for probes.Load() < before+3 {
		if err := caller.Call(ctx, "IntSummator", "int_sum", sumArgs{2, 3}, nil); err != nil {
			t.Fatalf("%v (IntSummator probed %d times since the direct calls began)", err, probes.Load()-before)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("IntSummator, called directly, probed %d times in the test's time", probes.Load()-before)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
