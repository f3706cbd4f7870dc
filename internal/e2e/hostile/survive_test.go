package hostile_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/supervision"
	amqp "github.com/rabbitmq/amqp091-go"
)

// A remote caller cannot stop a component: requests that make a method panic, six within
// a few milliseconds (more than its restart intensity allows), are each answered with
// ErrCrashed and the component goes on. And a component of the same process that its
// supervisor does stop (its own state broken, past its intensity) leaves the process's
// connection alone: the other components keep working on it.
func TestBadRequestsDoNotStopAComponent(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := deadline(t, 60*time.Second)
	reg := process(t, url, nil)
	if _, err := reg.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	proc := process(t, url, nil)
	fragile := component.New("Fragile", component.WithPolicy(supervision.Policy{MaxRestarts: 2, Within: time.Minute}))
	component.Method(fragile, "divide", func(_ context.Context, in sumArgs) (int, error) { return in.A / in.B, nil })
	frag, err := proc.Spawn(ctx, fragile)
	if err != nil {
		t.Fatal(err)
	}
	broken := component.New("Broken", component.WithPolicy(supervision.Policy{}))
	component.Method(broken, "get", func(context.Context, struct{}) (int, error) { return 0, component.ErrRestart })
	brk, err := proc.Spawn(ctx, broken)
	if err != nil {
		t.Fatal(err)
	}
	neighbour, err := proc.Spawn(ctx, summator("Neighbour"))
	if err != nil {
		t.Fatal(err)
	}
	caller, err := process(t, url, nil).Spawn(ctx, component.New("Caller"))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := amqp.ParseURI(url)
	before := rabbittest.Connections(t, u.Vhost)

	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- caller.Call(ctx, "Fragile", "divide", sumArgs{A: 1, B: 0}, nil)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, component.ErrCrashed) || !strings.Contains(err.Error(), "divide by zero") {
			t.Fatalf("a panicking request: %v, want ErrCrashed with the panic", err)
		}
	}
	var q int
	if err := caller.Call(ctx, "Fragile", "divide", sumArgs{A: 6, B: 3}, &q); err != nil || q != 2 {
		t.Fatalf("Fragile after six panics: %d, %v", q, err)
	}
	select {
	case <-frag.Done():
		t.Fatal("Fragile stopped")
	default:
	}

	if err := caller.Call(ctx, "Broken", "get", nil, nil); !errors.Is(err, component.ErrCrashed) {
		t.Fatalf("Broken: %v", err)
	}
	select {
	case <-brk.Done():
	case <-ctx.Done():
		t.Fatal("Broken was not stopped by its supervisor")
	}
	for i := range 20 {
		var sum int
		if err := caller.Call(ctx, "Neighbour", "int_sum", sumArgs{A: i, B: 1}, &sum); err != nil || sum != i+1 {
			t.Fatalf("Neighbour after Broken stopped: %d, %v", sum, err)
		}
	}
	if err := neighbour.Ping(ctx, "Fragile"); err != nil {
		t.Fatalf("Fragile from its neighbour: %v", err)
	}
	if after := rabbittest.Connections(t, u.Vhost); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the connections changed when a component stopped: %v, then %v", before, after)
	}
}
