package dropin_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/internal/testkit/pypeer"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/wire"
)

// Go components consume their own queue before they register and ask the Go registry to
// answer there: nothing reaches the shared recieve-<registry> queue, where registrants
// would hold each other's answers. A raw consumer of that queue, attached before they
// start, sees no message while twenty of them register at once.
func TestGoRegistrantsAreAnsweredOnTheirOwnQueue(t *testing.T) {
	t.Parallel()
	const n = 20
	url := rabbittest.VHost(t)
	ctx := deadline(t, 60*time.Second)
	reg, _ := process(t, url)
	if _, err := reg.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	raw := rabbittest.Channel(t, url)
	seen, err := raw.Consume(wire.RecieveQueue(wire.RegistrySession), "", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	sys, _ := process(t, url)
	var wg sync.WaitGroup
	handles := make([]*component.Handle, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := sys.Spawn(ctx, summator(fmt.Sprintf("Own%02d", i)))
			if err != nil {
				t.Errorf("Own%02d: %v", i, err)
			}
			handles[i] = h
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	// Every one is routable; then the registry's queue has had nothing for anyone.
	var got int
	if err := handles[0].Call(ctx, handles[n-1].Name(), "int_sum", sumArgs{A: 5, B: 18}, &got); err != nil || got != 23 {
		t.Fatalf("call: %d %v", got, err)
	}
	select {
	case d := <-seen:
		t.Fatalf("a registration answer went to the shared queue: %s", d.Body)
	default:
	}
	q, err := raw.QueueDeclarePassive(wire.RecieveQueue(wire.RegistrySession), true, false, false, false, nil)
	if err != nil || q.Messages != 0 {
		t.Fatalf("shared queue: %+v %v", q, err)
	}
}

// A name that a live at_queue component holds is refused to a Go component at once: its
// queue can have one consumer only, and the Python component keeps serving.
func TestNameHeldByAPythonComponentIsRefused(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := deadline(t, 60*time.Second)
	reg, _ := process(t, url)
	if _, err := reg.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	py := pyRegister(t, ctx, url, "IntSummator", pypeer.Since6ddd4b0)
	sys, _ := process(t, url)
	_, err := sys.Spawn(ctx, summator("IntSummator"))
	if !errors.Is(err, component.ErrRegistration) || !strings.Contains(err.Error(), "already registered and alive") {
		t.Fatalf("a Go component taking a live Python component's name: %v", err)
	}
	caller, err := sys.Spawn(ctx, component.New("Caller"))
	if err != nil {
		t.Fatal(err)
	}
	var got int
	if err := caller.Call(ctx, py.Name, "int_sum", sumArgs{A: 5, B: 18}, &got); err != nil || got != 23 {
		t.Fatalf("the Python component after the refusal: %d %v", got, err)
	}
}

// A component started before any registry ever ran on the virtual host waits: its
// request waits in the registry's queue, and it registers as soon as a registry starts.
func TestComponentWaitsForTheFirstRegistry(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := deadline(t, 60*time.Second)
	sys, _ := process(t, url)
	done := make(chan error, 1)
	go func() {
		_, err := sys.Spawn(ctx, summator("Early"))
		done <- err
	}()
	raw := rabbittest.Channel(t, url)
	for {
		q, err := raw.QueueDeclarePassive(wire.SendQueue(wire.RegistrySession), true, false, false, false, nil)
		if err == nil && q.Messages == 1 {
			break
		}
		if err != nil { // not declared yet: the passive declare closed the channel
			raw = rabbittest.Channel(t, url)
		}
		select {
		case err := <-done:
			t.Fatalf("registered without a registry: %v", err)
		case <-ctx.Done():
			t.Fatal("the register request never reached the registry's queue")
		case <-time.After(20 * time.Millisecond):
		}
	}
	reg, _ := process(t, url)
	if _, err := reg.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("registering once the registry started: %v", err)
	}
}
