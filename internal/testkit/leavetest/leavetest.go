// Package leavetest holds the scenarios of a component that leaves (stopped by its
// supervisor, or by Stop while a method runs), written once and run by the tests of each
// transport: in process (component) and over RabbitMQ (internal/e2e/stack), so that both
// show the same behaviour.
package leavetest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/supervision"
	"github.com/at-technology/atqueue/wire"
)

// Env is where a scenario runs: a registry is up, Spawn starts a component (in its own
// process or not) and Ready tells how many messages wait for delivery in a queue.
type Env struct {
	Spawn func(t *testing.T, def *component.Component) *component.Handle
	Ready func(t *testing.T, queue string) int
}

// StoppedComponentAnswersWhatWaits: requests waiting in the queue of a component its
// supervisor stops are answered at once with ComponentStoppedException (ErrNotAlive),
// not left to their callers' deadline, and the component leaves the registry.
func StoppedComponentAnswersWhatWaits(ctx context.Context, t *testing.T, env Env) {
	t.Helper()
	gate, started := make(chan struct{}), make(chan struct{}, 1)
	fragile := component.New("Fragile", component.WithPrefetch(1),
		component.WithPolicy(supervision.Policy{MaxRestarts: 0}))
	component.Method(fragile, "crash", func(context.Context, struct{}) (int, error) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-gate
		return 0, fmt.Errorf("%w: fragile", component.ErrRestart)
	})
	h := env.Spawn(t, fragile)
	req := env.Spawn(t, component.New("Caller"))

	first := make(chan error, 1)
	go func() { first <- req.Call(ctx, "Fragile", "crash", nil, nil) }()
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("the first request never ran")
	}
	// With prefetch 1 the next requests wait in the queue behind the first.
	const waiting = 10
	errs := make(chan error, waiting)
	for range waiting {
		go func() { errs <- req.Call(ctx, "Fragile", "crash", nil, nil) }()
	}
	queue := wire.RecieveQueue(h.SessionID())
	for env.Ready(t, queue) < waiting {
		if ctx.Err() != nil {
			t.Fatal("the waiting requests never reached the queue")
		}
		runtime.Gosched()
	}
	close(gate)
	if err := <-first; !errors.Is(err, component.ErrCrashed) {
		t.Fatalf("first request: %v", err)
	}
	stopped := 0
	for range waiting {
		err := <-errs
		var re *component.RemoteError
		switch {
		case errors.Is(err, component.ErrNotAlive) && errors.As(err, &re) && re.Items[0].Type == component.ComponentStoppedException:
			stopped++
		case errors.Is(err, component.ErrCrashed), errors.Is(err, component.ErrUnknownComponent):
			// served before the stop, or sent after the registry forgot the name
		default:
			t.Errorf("a waiting request ended with %v", err)
		}
	}
	if stopped == 0 {
		t.Error("no waiting request was answered by the stopped component")
	}
	t.Logf("%d of %d waiting requests answered by the stopped component", stopped, waiting)
	select {
	case <-h.Done():
	case <-ctx.Done():
		t.Fatal("Fragile did not stop")
	}
	if ok, err := req.CheckRegistered(ctx, "Fragile"); err != nil || ok {
		t.Fatalf("Fragile still registered: %v %v", ok, err)
	}
}

// StopDeliversAnswersOfRunningMethods: Stop leaves the registry first, yet the answer of
// a method still running reaches its caller (the registry keeps routing what a component
// that left still sends), the request is acknowledged before the consumer goes, and the
// component can come back under its name at once.
func StopDeliversAnswersOfRunningMethods(ctx context.Context, t *testing.T, env Env) {
	t.Helper()
	release, running := make(chan struct{}), make(chan struct{})
	slow := component.New("Slow")
	component.Method(slow, "slow", func(context.Context, struct{}) (int, error) {
		close(running)
		<-release
		return 42, nil
	})
	h := env.Spawn(t, slow)
	req := env.Spawn(t, component.New("Caller"))

	result := make(chan error, 1)
	var got int
	go func() { result <- req.Call(ctx, "Slow", "slow", nil, &got) }()
	select {
	case <-running:
	case <-ctx.Done():
		t.Fatal("the method never ran")
	}
	stopped := make(chan error, 1)
	go func() { stopped <- h.Stop(ctx) }()
	for {
		ok, err := req.CheckRegistered(ctx, "Slow")
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
	}
	close(release)
	if err := <-result; err != nil || got != 42 {
		t.Fatalf("call: %d %v", got, err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("stop: %v", err)
	}
	// The request was acknowledged before the consumer went: nothing waits to run again.
	if n := env.Ready(t, wire.RecieveQueue(h.SessionID())); n != 0 {
		t.Fatalf("%d messages left in Slow's queue after Stop, want 0", n)
	}
	// Back under the same name while the registry still routes its old queue: that
	// consumer becomes the registration's, and calls reach the new run.
	again := component.New("Slow")
	component.Method(again, "slow", func(context.Context, struct{}) (int, error) { return 43, nil })
	env.Spawn(t, again)
	if err := req.Call(ctx, "Slow", "slow", nil, &got); err != nil || got != 43 {
		t.Fatalf("call after coming back: %d %v", got, err)
	}
}
