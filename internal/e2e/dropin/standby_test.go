package dropin_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/internal/testkit/pypeer"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/registry"
	"github.com/at-technology/atqueue/wire"
)

// A second Go registry on the same virtual host is refused at once with a message that
// says what to do; the first one keeps serving alone.
func TestSecondRegistryRefused(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := deadline(t, 60*time.Second)
	first, _ := process(t, url)
	if _, err := first.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	second, _ := process(t, url)
	_, err := second.StartRegistry(ctx)
	if !errors.Is(err, registry.ErrAnotherRegistry) || !strings.Contains(err.Error(), "--standby") {
		t.Fatalf("second registry: %v, want registry.ErrAnotherRegistry naming --standby", err)
	}
	// All traffic still goes through the first: a burst of calls all succeed.
	goSys, _ := process(t, url)
	if _, err := goSys.Spawn(ctx, summator("IntSummator")); err != nil {
		t.Fatal(err)
	}
	caller, err := goSys.Spawn(ctx, summator("Caller"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		var got int
		if err := caller.Call(ctx, "IntSummator", "int_sum", sumArgs{A: i, B: 1}, &got); err != nil || got != i+1 {
			t.Fatalf("call %d: %d, %v", i, got, err)
		}
	}
}

// A Python registry (python -m at_queue consumes the registry queue without the exclusive
// flag) is found the same way, and a standby takes over once it is gone.
func TestPythonRegistryDetected(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := deadline(t, 60*time.Second)
	raw := rabbittest.Channel(t, url)
	queue := wire.SendQueue(wire.RegistrySession)
	for _, q := range []string{queue, wire.RecieveQueue(wire.RegistrySession)} {
		if _, err := raw.QueueDeclare(q, true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.Consume(queue, "python-registry", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	sys, _ := process(t, url)
	if _, err := sys.StartRegistry(ctx); !errors.Is(err, registry.ErrAnotherRegistry) {
		t.Fatalf("registry beside python -m at_queue: %v, want registry.ErrAnotherRegistry", err)
	}

	standby, _ := process(t, url)
	started := make(chan error, 1)
	go func() {
		_, err := standby.StartRegistry(ctx, registry.WithStandby(100*time.Millisecond))
		started <- err
	}()
	select {
	case err := <-started:
		t.Fatalf("the standby started while the Python registry serves: %v", err)
	case <-time.After(500 * time.Millisecond): // it must still be waiting: five retries
	}
	gone := time.Now()
	if err := raw.Cancel("python-registry", false); err != nil {
		t.Fatal(err)
	}
	if err := <-started; err != nil {
		t.Fatalf("standby: %v", err)
	}
	t.Logf("the standby took over %v after the Python registry stopped consuming", time.Since(gone).Round(time.Millisecond))
	pyRegister(t, ctx, url, "IntSummator", pypeer.Since6ddd4b0)
}

// A standby registry takes over within a few seconds when the serving one dies, with the
// directory intact: a Python component registered with the first (it never registers
// again) is still routed to, and its caller still reaches it.
func TestStandbyTakesOver(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := deadline(t, 90*time.Second)
	state := filepath.Join(t.TempDir(), "registry.json")
	first, killFirst := process(t, url)
	if _, err := first.StartRegistry(ctx, registry.WithStateFile(state)); err != nil {
		t.Fatal(err)
	}
	summer := pyRegister(t, ctx, url, "IntSummator", pypeer.Since6ddd4b0)
	requester := pyRegister(t, ctx, url, "SumRequester", pypeer.Since6ddd4b0)
	wantSum(t, ctx, requester, summer.Name)

	second, _ := process(t, url)
	started := make(chan error, 1)
	go func() {
		_, err := second.StartRegistry(ctx, registry.WithStateFile(state), registry.WithStandby(250*time.Millisecond))
		started <- err
	}()
	// The standby waits while the first serves; calls keep working through the first.
	for range 5 {
		wantSum(t, ctx, requester, summer.Name)
	}
	select {
	case err := <-started:
		t.Fatalf("the standby started while the first registry serves: %v", err)
	default:
	}

	died := time.Now()
	killFirst() // its connection closes: RabbitMQ drops its consumers
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("standby: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the standby did not take over within 10s of the first registry's end")
	}
	t.Logf("the standby took over %v after the first registry stopped", time.Since(died).Round(time.Millisecond))
	callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	wantSum(t, callCtx, requester, summer.Name)
}
