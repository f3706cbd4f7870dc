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
	await(ctx, t, func() bool { return probes.Load() >= 5 },
		func() string {
			return fmt.Sprintf("the component counted its send queue's consumers %d times in 10s; want 5", probes.Load())
		})
	if n := asks.Load(); n != 0 {
		t.Fatalf("the component asked the registry %d times while the registry consumed its queue", n)
	}
}

// checkWatch counts, per component, the first probe of its send queue and the first
// check_registered it publishes, as a middleware of the System's actors.
type checkWatch struct {
	mu            sync.Mutex
	probed, asked map[string]bool // send queues not yet seen
	probes, asks  atomic.Int64
}

func newCheckWatch() *checkWatch {
	return &checkWatch{probed: map[string]bool{}, asked: map[string]bool{}}
}

// watch adds name's send queue to the queues counted.
func (w *checkWatch) watch(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.probed[wire.SendQueue(wire.SessionID(name))] = true
	w.asked[wire.SendQueue(wire.SessionID(name))] = true
}

func (w *checkWatch) middleware(next actor.ReceiverFunc) actor.ReceiverFunc {
	return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
		w.mu.Lock()
		switch m := env.Message.(type) {
		case *bridge.Probe:
			if w.probed[m.Queue] {
				delete(w.probed, m.Queue)
				w.probes.Add(1)
			}
		case *bridge.Publish:
			if e, err := wire.Decode(m.Body, 0); err == nil && w.asked[m.Queue] && wire.PeekType(e.Message) == wire.TypeCheckRegistered {
				delete(w.asked, m.Queue)
				w.asks.Add(1)
			}
		}
		w.mu.Unlock()
		next(c, env)
	}
}

// await waits until cond holds, or fails with what.
func await(ctx context.Context, t *testing.T, cond func() bool, what func() string) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatal(what())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// A component that finds the registry has forgotten it has every other component of its
// process checked at once (the check pacer's rush): a registry restarted without its
// state forgot them all, including those whose own next check is an hour away. Each sees
// that a registry reads its own queue but not the component's, and registers again at
// once.
func TestForgottenComponentHasTheOthersChecked(t *testing.T) {
	w := newCheckWatch()
	sys, ctx := startRegistry(t, []actors.Option{actors.WithReceiverMiddleware(w.middleware)})
	const n = 10
	var names []string
	for i := range n {
		name := fmt.Sprintf("Quiet%02d", i)
		if _, err := sys.Spawn(ctx, component.New(name, component.WithRegistryCheck(time.Hour))); err != nil {
			t.Fatal(err)
		}
		w.watch(name)
		names = append(names, name)
	}
	sentinel, err := sys.Spawn(ctx, component.New("Sentinel", component.WithRegistryCheck(20*time.Millisecond)))
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.StopRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	await(ctx, t, func() bool { return w.probes.Load() == n },
		func() string {
			return fmt.Sprintf("%d of %d components checked after the registry forgot them; want all, at once", w.probes.Load(), n)
		})
	for _, name := range names {
		await(ctx, t, func() bool { ok, err := sentinel.CheckRegistered(ctx, name); return err == nil && ok },
			func() string { return name + " did not register again" })
	}
	if n := w.asks.Load(); n != 0 {
		t.Fatalf("%d components asked a registry that reads its own queue and not theirs", n)
	}
}

// With no registry at all, a component's check finds nobody reading its send queue or the
// registry's; it asks (and waits), and when stopped it does not wait 2s for the
// confirmation of an unregister that nobody reads. actors.System stops its components one
// after the other: ten would have taken 20s.
func TestComponentsStopAtOnceWithoutARegistry(t *testing.T) {
	w := newCheckWatch()
	sys, ctx := startRegistry(t, []actors.Option{actors.WithReceiverMiddleware(w.middleware)})
	const n = 10
	handles := make([]*component.Handle, n)
	for i := range n {
		name := fmt.Sprintf("Alone%02d", i)
		h, err := sys.Spawn(ctx, component.New(name, component.WithRegistryCheck(50*time.Millisecond)))
		if err != nil {
			t.Fatal(err)
		}
		handles[i] = h
		w.watch(name)
	}
	if err := sys.StopRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	await(ctx, t, func() bool { return w.asks.Load() == n },
		func() string { return fmt.Sprintf("%d of %d components asked the registry", w.asks.Load(), n) })
	stopCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for _, h := range handles {
		if err := h.Stop(stopCtx); err != nil {
			t.Fatal(err)
		}
	}
}
