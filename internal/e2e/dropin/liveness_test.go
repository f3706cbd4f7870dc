package dropin_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/internal/testkit/proxy"
	"github.com/at-technology/atqueue/internal/testkit/pypeer"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/internal/testkit/testlog"
	"github.com/at-technology/atqueue/wire"
)

// A component killed outright (its connection gone, as after SIGKILL) is found dead
// within about two seconds by the registry's periodic check: inspect reports it, calls to
// it fail at once with the not-alive error, and the requests that were already waiting
// in its queue are answered with it rather than left to expire. When it comes back it is
// alive again.
func TestKilledComponentFailsFast(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := deadline(t, 90*time.Second)
	watch := newLogWatch()
	reg, _ := processLogged(t, url, slog.New(slog.NewMultiHandler(watch, testlog.New(t, testlog.WithLevel(slog.LevelWarn)).Handler())))
	if _, err := reg.StartRegistry(ctx); err != nil { // liveness defaults: every 1s, dead after 2s
		t.Fatal(err)
	}
	goSys, _ := process(t, url)
	caller, err := goSys.Spawn(ctx, summator("Caller"))
	if err != nil {
		t.Fatal(err)
	}
	victim := pyRegister(t, ctx, url, "Victim", pypeer.Since6ddd4b0)
	asker := pyRegister(t, ctx, url, "Asker", pypeer.Since6ddd4b0)
	wantSum(t, ctx, asker, victim.Name)
	// Killed once the registry has seen it consume: a component that never consumed is
	// given the start grace (30s) instead, as a Python component's start() may come late.
	watch.wait(t, ctx, "component consumes its queue", "component=Victim")

	if err := victim.Close(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	// Requests sent right after the kill wait in the victim's queue.
	var ids []string
	for range 3 {
		id, err := asker.Send(ctx, victim.Name, wire.Object{{Key: "type", Value: wire.TypeExecMethod},
			{Key: "method", Value: "int_sum"}, {Key: "args", Value: map[string]int{"a": 1, "b": 2}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for {
		alive, err := inspectAlive(ctx, caller, victim.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !alive {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the killed component was never reported dead")
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Logf("found dead %v after the kill", time.Since(killed).Round(10*time.Millisecond))

	for _, id := range ids {
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ans, err := asker.Await(actx, id)
		cancel()
		if err != nil {
			t.Fatalf("a request queued for the dead component was not answered: %v", err)
		}
		if !ans.HasErrors || !strings.Contains(wire.ErrorTexts(ans.Errors), "not alive") {
			t.Fatalf("queued request answered %s, want the not-alive error", ans.Raw)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := caller.Call(cctx, victim.Name, "int_sum", sumArgs{A: 1, B: 2}, nil); !errors.Is(err, component.ErrNotAlive) {
		t.Fatalf("call to the dead component: %v, want component.ErrNotAlive at once", err)
	}

	back := pyRegister(t, ctx, url, "Victim", pypeer.Since6ddd4b0)
	var got int
	if err := caller.Call(ctx, back.Name, "int_sum", sumArgs{A: 20, B: 3}, &got); err != nil || got != 23 {
		t.Fatalf("call after it came back: %d, %v", got, err)
	}
	if alive, err := inspectAlive(ctx, caller, back.Name); err != nil || !alive {
		t.Fatalf("inspect after it came back: alive=%t, %v", alive, err)
	}
}

// A Go component consumes its queue before it registers, so the registry gives it no
// start grace: killed right after registering, before any liveness check saw it, it is
// found dead within the dead-after (2s), not after the 30s a Python component gets.
func TestGoComponentKilledAtOnceIsFoundDead(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := deadline(t, 60*time.Second)
	reg, _ := process(t, url)
	if _, err := reg.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	caller, err := func() (*component.Handle, error) {
		sys, _ := process(t, url)
		return sys.Spawn(ctx, component.New("Caller"))
	}()
	if err != nil {
		t.Fatal(err)
	}
	px := proxy.New(t, url)
	victimSys, _ := process(t, px.URL())
	if _, err := victimSys.Spawn(ctx, summator("Victim")); err != nil {
		t.Fatal(err)
	}
	px.SetMode(proxy.Refuse)
	px.Cut()
	killed := time.Now()
	// Well within the start grace a Python component would get.
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	for {
		alive, err := inspectAlive(cctx, caller, "Victim")
		if err != nil {
			t.Fatalf("Victim not found dead: %v", err)
		}
		if !alive {
			break
		}
		select {
		case <-cctx.Done():
			t.Fatal("Victim not found dead within 15s")
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Logf("found dead %v after the kill", time.Since(killed).Round(10*time.Millisecond))
	err = caller.Call(ctx, "Victim", "int_sum", sumArgs{A: 1, B: 2}, nil)
	if !errors.Is(err, component.ErrNotAlive) {
		t.Fatalf("a call to the dead Victim: %v", err)
	}
}
