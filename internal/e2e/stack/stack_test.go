package stack_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/at-technology/atqueue/actors"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/examples/seed"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/wire"
)

// process is one actor system with its own AMQP connection, like a separate program.
func process(t *testing.T, url string, opts ...actors.Option) *actors.System {
	t.Helper()
	sys, err := actors.New(append([]actors.Option{actors.WithBroker(amqpbridge.NewBroker(url))}, opts...)...)
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
	return sys
}

func deadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func startRegistry(t *testing.T, url string) {
	t.Helper()
	if _, err := process(t, url).StartRegistry(deadline(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
}

func spawn(t *testing.T, url string, def *component.Component) *component.Handle {
	t.Helper()
	h, err := process(t, url).Spawn(deadline(t, 15*time.Second), def)
	if err != nil {
		t.Fatalf("spawn %s: %v", def.Name(), err)
	}
	return h
}

// The seed example across three connections, with every error kind and the registry services.
func TestSeedOverRabbitMQ(t *testing.T) {
	url := rabbittest.VHost(t)
	startRegistry(t, url)
	spawn(t, url, seed.IntSummator())
	vault := component.New("Vault")
	component.Method(vault, "secret", func(ctx context.Context, _ struct{}) (string, error) {
		return "token " + component.AuthToken(ctx), nil
	}, component.Authorized())
	spawn(t, url, vault)
	req := spawn(t, url, seed.SumRequester())
	ctx := deadline(t, 20*time.Second)

	var sum int
	if err := req.Call(ctx, "IntSummator", "int_sum", seed.SumArgs{A: 5, B: 18}, &sum); err != nil || sum != 23 {
		t.Fatalf("int_sum = %d, %v", sum, err)
	}
	for _, c := range []struct {
		receiver, method string
		args             any
		kind             error
	}{
		{"IntSummator", "int_sum", map[string]any{"a": 5, "b": "b"}, component.ErrInvalidArguments},
		{"IntSummator", "nope", nil, component.ErrUnknownMethod},
		{"Nobody", "int_sum", nil, component.ErrUnknownComponent},
		{"Vault", "secret", nil, component.ErrNotAuthorized},
	} {
		if err := req.Call(ctx, c.receiver, c.method, c.args, nil); !errors.Is(err, c.kind) {
			t.Fatalf("%s.%s: %v, want %v", c.receiver, c.method, err, c.kind)
		}
	}
	var s string
	if err := req.Call(ctx, "Vault", "secret", nil, &s, component.WithToken("tok123")); err != nil || s != "token tok123" {
		t.Fatalf("auth header: %q %v", s, err)
	}
	if ok, err := req.CheckRegistered(ctx, "IntSummator"); err != nil || !ok {
		t.Fatalf("check_registered: %v %v", ok, err)
	}
	raw, err := req.Inspect(ctx, "IntSummator")
	if err != nil || !strings.Contains(string(raw), `"session_id": "3b77ae37-4633-3abc-8d5f-e38581de1aba"`) {
		t.Fatalf("inspect: %s %v", raw, err)
	}
	all, err := req.InspectAll(ctx)
	if err != nil || !strings.Contains(string(all), `"Vault": {"broker"`) || !strings.Contains(string(all), `"SumRequester": {"broker"`) {
		t.Fatalf("inspect_all: %s %v", all, err)
	}
	if err := req.Ping(ctx, "IntSummator"); err != nil {
		t.Fatal(err)
	}
}

// Twenty components registering at the same moment all succeed within seconds (the
// Python package deadlocks here: spec quirk 5).
func TestRegistrationBurst(t *testing.T) {
	url := rabbittest.VHost(t)
	startRegistry(t, url)
	const n = 20
	systems := make([]*actors.System, n)
	for i := range systems {
		systems[i] = process(t, url)
	}
	ctx := deadline(t, 15*time.Second)
	begin := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, sys := range systems {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := component.New(fmt.Sprintf("Burst%02d", i))
			component.Method(c, "id", func(context.Context, struct{}) (int, error) { return i, nil })
			_, err := sys.Spawn(ctx, c)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d components registered in %v", n, time.Since(begin))
	req := spawn(t, url, component.New("Checker"))
	for i := 0; i < n; i++ {
		var got int
		if err := req.Call(ctx, fmt.Sprintf("Burst%02d", i), "id", nil, &got); err != nil || got != i {
			t.Fatalf("Burst%02d: %d %v", i, got, err)
		}
	}
}

// Two components call each other in both directions at once, each call nesting a call back.
func TestComponentsCallEachOtherBothWays(t *testing.T) {
	url := rabbittest.VHost(t)
	startRegistry(t, url)
	mk := func(name, peer string) *component.Component {
		c := component.New(name)
		component.Method(c, "ask", func(ctx context.Context, in struct{ N int }) (int, error) {
			var out int
			err := component.FromContext(ctx).Call(ctx, peer, "answer", map[string]int{"N": in.N}, &out)
			return out, err
		})
		component.Method(c, "answer", func(_ context.Context, in struct{ N int }) (int, error) { return in.N * 10, nil })
		return c
	}
	a := spawn(t, url, mk("Alice", "Bob"))
	b := spawn(t, url, mk("Bob", "Alice"))
	ctx := deadline(t, 20*time.Second)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 50; i++ {
		for _, pair := range []struct {
			from   *component.Handle
			target string
		}{{a, "Bob"}, {b, "Alice"}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var out int
				err := pair.from.Call(ctx, pair.target, "ask", map[string]int{"N": i}, &out)
				if err == nil && out != i*10 {
					err = fmt.Errorf("%s.ask(%d) = %d", pair.target, i, out)
				}
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A component registering again (after a restart) keeps one consumer on its send queue:
// the Python registry leaks one per registration (quirk 7).
func TestReRegistrationKeepsOneConsumer(t *testing.T) {
	url := rabbittest.VHost(t)
	startRegistry(t, url)
	first := spawn(t, url, seed.IntSummator())
	if err := first.Stop(deadline(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	second := spawn(t, url, seed.IntSummator())
	if second.SessionID() != wire.SessionID("IntSummator") {
		t.Fatalf("session %s", second.SessionID())
	}
	vhost := url[strings.LastIndex(url, "/")+1:]
	out := rabbittest.Ctl(t, "list_consumers", "-p", vhost, "queue_name")
	if n := strings.Count(out, wire.SendQueue(second.SessionID())); n != 1 {
		t.Fatalf("%d consumers on %s:\n%s", n, wire.SendQueue(second.SessionID()), out)
	}
}
