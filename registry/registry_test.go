package registry_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/registry"
	"github.com/at-technology/atqueue/wire"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type sumArgs struct {
	A int `json:"a"`
	B int `json:"b"`
}

// A registry restarted with a state file knows the components registered before, so a
// component that never registers again (as Python components never do) keeps working.
func TestRestartedRegistryKeepsDirectory(t *testing.T) {
	state := filepath.Join(t.TempDir(), "registry.json")
	sys, ctx := startRegistry(t, nil, registry.WithStateFile(state))
	if _, err := sys.Spawn(ctx, summator()); err != nil {
		t.Fatal(err)
	}
	caller, err := sys.Spawn(ctx, component.New("Caller"))
	if err != nil {
		t.Fatal(err)
	}
	// The file is written off the registry's mailbox, soon after the change.
	for {
		saved, err := os.ReadFile(state)
		if err == nil && strings.Contains(string(saved), `"IntSummator"`) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("state file: %s %v", saved, err)
		case <-time.After(5 * time.Millisecond):
		}
	}

	if err := sys.StopRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	// While the registry is down the call waits in the caller's queue.
	done := make(chan error, 1)
	var got int
	go func() { done <- caller.Call(ctx, "IntSummator", "int_sum", sumArgs{2, 3}, &got) }()
	if _, err := sys.StartRegistry(ctx, registry.WithStateFile(state)); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil || got != 5 {
		t.Fatalf("call across the registry restart: %d %v", got, err)
	}
	if ok, err := caller.CheckRegistered(ctx, "IntSummator"); err != nil || !ok {
		t.Fatalf("check_registered after restart: %v %v", ok, err)
	}
}

// summator is an IntSummator whose int_sum adds two ints.
// startRegistry starts a system (sysOpts) and a registry in it (regOpts), both stopped
// when the test ends; ctx bounds the test to 10s.
func startRegistry(t *testing.T, sysOpts []actors.Option, regOpts ...registry.Option) (*actors.System, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	sys, err := actors.New(sysOpts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Shutdown(context.Background()) })
	if _, err := sys.StartRegistry(ctx, regOpts...); err != nil {
		t.Fatal(err)
	}
	return sys, ctx
}

func summator(opts ...component.Option) *component.Component {
	c := component.New("IntSummator", opts...)
	component.Method(c, "int_sum", func(_ context.Context, in sumArgs) (int, error) { return in.A + in.B, nil })
	return c
}

// checkingSummator is a summator that checks its registration every 20ms.
func checkingSummator() *component.Component {
	return summator(component.WithRegistryCheck(20 * time.Millisecond))
}

// An unregister that waited in a component's queue while no registry ran does not remove
// the component's next registration.
func TestStaleUnregisterIsIgnored(t *testing.T) {
	sys, ctx := startRegistry(t, nil)
	first, err := sys.Spawn(ctx, checkingSummator())
	if err != nil {
		t.Fatal(err)
	}
	// Without a state file the new registry forgets Caller; Caller notices and registers again.
	caller, err := sys.Spawn(ctx, component.New("Caller", component.WithRegistryCheck(20*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.StopRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	if err := first.Stop(ctx); err != nil { // its unregister waits in send-<sid>
		t.Fatal(err)
	}
	if _, err := sys.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Spawn(ctx, checkingSummator()); err != nil {
		t.Fatal(err)
	}
	var sum int
	if err := caller.Call(ctx, "IntSummator", "int_sum", sumArgs{4, 4}, &sum); err != nil || sum != 8 {
		t.Fatalf("after the stale unregister: %d %v", sum, err)
	}
	if ok, err := caller.CheckRegistered(ctx, "IntSummator"); err != nil || !ok {
		t.Fatalf("registered = %v, %v", ok, err)
	}
}

// A component checks that the registry still knows it by counting the consumers of its
// send queue, which the registry consumes; it asks the registry (check_registered, a
// routed message each way) only when nothing consumes that queue. 1,000 components asking
// every 15s slowed every routed call.
func TestRegistryCheckCountsConsumersFirst(t *testing.T) {
	var probes, asks atomic.Int64
	counter := func(next actor.ReceiverFunc) actor.ReceiverFunc {
		return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
			switch m := env.Message.(type) {
			case *bridge.Probe:
				if _, send, ok := wire.ParseQueue(m.Queue); ok && send {
					probes.Add(1)
				}
			case *bridge.Delivery:
				if e, err := wire.Decode(m.Body, 0); err == nil && e.Reciever == wire.RegistryName &&
					wire.PeekType(e.Message) == wire.TypeCheckRegistered {
					asks.Add(1)
				}
			}
			next(c, env)
		}
	}
	sys, ctx := startRegistry(t, []actors.Option{actors.WithReceiverMiddleware(counter)})
	if _, err := sys.Spawn(ctx, checkingSummator()); err != nil {
		t.Fatal(err)
	}
	for probes.Load() < 5 {
		select {
		case <-ctx.Done():
			t.Fatalf("the component counted its send queue's consumers %d times in 10s; want 5", probes.Load())
		case <-time.After(5 * time.Millisecond):
		}
	}
	if n := asks.Load(); n != 0 {
		t.Fatalf("the component asked the registry %d times while the registry consumed its queue", n)
	}
}

// A component that finds the registry has forgotten it has every other component of its
// process checked at once (the check pacer's rush): a registry restarted without its
// state forgot them all, including those whose own next check is an hour away. Having
// found that no registry reads their queues, they stop without waiting for the
// confirmation of an unregister.
func TestForgottenComponentHasTheOthersChecked(t *testing.T) {
	quiet, asked := map[string]bool{}, map[string]bool{}
	var mu sync.Mutex
	var probed, asks atomic.Int64
	counter := func(next actor.ReceiverFunc) actor.ReceiverFunc {
		return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
			mu.Lock()
			switch m := env.Message.(type) {
			case *bridge.Probe:
				if quiet[m.Queue] {
					delete(quiet, m.Queue)
					probed.Add(1)
				}
			case *bridge.Publish:
				if e, err := wire.Decode(m.Body, 0); err == nil && asked[m.Queue] && wire.PeekType(e.Message) == wire.TypeCheckRegistered {
					delete(asked, m.Queue)
					asks.Add(1)
				}
			}
			mu.Unlock()
			next(c, env)
		}
	}
	sys, ctx := startRegistry(t, []actors.Option{actors.WithReceiverMiddleware(counter)})
	const n = 10
	handles := make([]*component.Handle, n)
	for i := range n {
		name := fmt.Sprintf("Quiet%02d", i)
		h, err := sys.Spawn(ctx, component.New(name, component.WithRegistryCheck(time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		handles[i] = h
		mu.Lock()
		quiet[wire.SendQueue(wire.SessionID(name))] = true
		asked[wire.SendQueue(wire.SessionID(name))] = true
		mu.Unlock()
	}
	if _, err := sys.Spawn(ctx, component.New("Sentinel", component.WithRegistryCheck(20*time.Millisecond))); err != nil {
		t.Fatal(err)
	}
	if err := sys.StopRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	for probed.Load() < n || asks.Load() < n { // counted their consumers, found none, asked
		select {
		case <-ctx.Done():
			t.Fatalf("%d of %d components checked (%d asked) after the registry forgot them; want all, at once", probed.Load(), n, asks.Load())
		case <-time.After(5 * time.Millisecond):
		}
	}
	// One after the other, as the System's shutdown stops them: waiting 2s each for a
	// confirmation nobody sends would take 20s.
	stopCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for _, h := range handles {
		if err := h.Stop(stopCtx); err != nil {
			t.Fatal(err)
		}
	}
}
