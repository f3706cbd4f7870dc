package component_test

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/supervision"
	"github.com/at-technology/atqueue/wire"
)

// Requests waiting in the queue of a component its supervisor stops are answered at once
// with ComponentStoppedException (ErrNotAlive), not left to their callers' deadline.
func TestStoppedComponentAnswersWhatWaitsForIt(t *testing.T) {
	tr := bridge.NewEmbedded()
	sys := newSystem(t, actors.WithTransport(tr))
	gate, started := make(chan struct{}), make(chan struct{}, 1)
	fragile := component.New("Fragile", component.WithPrefetch(1),
		component.WithPolicy(supervision.Policy{MaxRestarts: 0}))
	component.Method(fragile, "crash", func(context.Context, struct{}) (int, error) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-gate
		panic("fragile")
	})
	h := spawn(t, sys, fragile)
	req := spawn(t, sys, component.New("Caller"))
	ctx := ctxT(t)

	first, err := req.Send("Fragile", map[string]any{"type": "exec_method", "method": "crash", "args": map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
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
	for tr.Depth(wire.RecieveQueue(h.SessionID())) < waiting {
		if ctx.Err() != nil {
			t.Fatal("the waiting requests never reached the queue")
		}
		runtime.Gosched()
	}
	close(gate)
	if r, err := first.Wait(ctx); err != nil || !r.HasErrors {
		t.Fatalf("first request: %+v %v", r, err)
	}
	stoppedAnswers := 0
	for range waiting {
		err := <-errs
		var re *component.RemoteError
		switch {
		case errors.Is(err, component.ErrNotAlive) && errors.As(err, &re) && re.Items[0].Type == component.ComponentStoppedException:
			stoppedAnswers++
		case errors.Is(err, component.ErrCrashed), errors.Is(err, component.ErrUnknownComponent):
			// served before the stop, or sent after the registry forgot the name
		default:
			t.Errorf("a waiting request ended with %v", err)
		}
	}
	if stoppedAnswers == 0 {
		t.Error("no waiting request was answered by the stopped component")
	}
	select {
	case <-h.Done():
	case <-ctx.Done():
		t.Fatal("Fragile did not stop")
	}
	if ok, err := req.CheckRegistered(ctx, "Fragile"); err != nil || ok {
		t.Fatalf("Fragile still registered: %v %v", ok, err)
	}
}

// Stop leaves the registry first, yet the answer of a method still running reaches its
// caller: the registry keeps routing what a component that left still sends.
func TestStopDeliversAnswersOfRunningMethods(t *testing.T) {
	sys := newSystem(t)
	release, started := make(chan struct{}), make(chan struct{})
	slow := component.New("Slow")
	component.Method(slow, "slow", func(context.Context, struct{}) (int, error) {
		close(started)
		<-release
		return 42, nil
	})
	h := spawn(t, sys, slow)
	req := spawn(t, sys, component.New("Caller"))
	ctx := ctxT(t)

	result := make(chan error, 1)
	var got int
	go func() { result <- req.Call(ctx, "Slow", "slow", nil, &got) }()
	select {
	case <-started:
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
	// Back under the same name while the registry still routes its old queue: that
	// consumer becomes the registration's, and calls reach the new run.
	again := component.New("Slow")
	component.Method(again, "slow", func(context.Context, struct{}) (int, error) { return 43, nil })
	spawn(t, sys, again)
	if err := req.Call(ctx, "Slow", "slow", nil, &got); err != nil || got != 43 {
		t.Fatalf("call after coming back: %d %v", got, err)
	}
}
