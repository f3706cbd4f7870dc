package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/internal/testkit/pypeer"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/wire"
)

// One registry per virtual host, as processes: a second atq registry exits 1 with a
// message that says what to do; one started with --standby waits, and takes over when
// the serving one is killed (SIGKILL), with the directory of the shared state file: an
// at_queue component registered with the first (it never registers again) is still
// reachable, and the standby's pidfile names it.
func TestSecondRegistryAndStandby(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "registry.json")
	first := start(t, "registry", "-u", url, "--debugger=false", "--pidfile", filepath.Join(dir, "first.pid"), "--state", state)
	first.WaitLine("registry listening on ", ready)

	second := start(t, "registry", "-u", url, "--debugger=false", "--pidfile", "", "--state", "none")
	if code := second.Wait(stopped + ready); code != 1 {
		t.Fatalf("a second registry exited with %d, want 1\n%s", code, second.Stderr())
	}
	if msg := second.Stderr(); !strings.Contains(msg, "another registry serves this virtual host") || !strings.Contains(msg, "--standby") {
		t.Errorf("the second registry's message does not say what happened and what to do:\n%s", msg)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	summer, err := pypeer.Register(ctx, url, pypeer.RegisterBody("IntSummator", wire.NewID()), pypeer.Since6ddd4b0,
		map[string]pypeer.Method{"int_sum": pypeer.IntSum})
	if err != nil {
		t.Fatal(err)
	}
	defer summer.Close()
	requester, err := pypeer.Register(ctx, url, pypeer.RegisterBody("SumRequester", wire.NewID()), pypeer.Since6ddd4b0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer requester.Close()

	standbyPid := filepath.Join(dir, "standby.pid")
	standby := start(t, "registry", "-u", url, "--debugger=false", "--pidfile", standbyPid, "--state", state,
		"--standby", "--standby-retry", "200ms")
	standby.WaitStderr("standing by", 0, ready)
	if _, err := os.Stat(standbyPid); !os.IsNotExist(err) {
		t.Errorf("a standby wrote its pidfile before it serves: %v", err)
	}

	// The state file is written a moment after a change (the writer rests between writes),
	// and what the first registry has not written when it dies is lost with it: the test
	// kills it once both components are in the file.
	savedNames(t, ctx, state, "IntSummator", "SumRequester")
	first.Kill(stopped)
	standby.WaitLine("registry listening on ", ready)
	ans, err := requester.Call(ctx, "IntSummator", "int_sum", map[string]int{"a": 5, "b": 18})
	if err != nil || string(ans.Result) != "23" {
		t.Fatalf("a call through the standby: %s, %v", ans.Raw, err)
	}
	if b, err := os.ReadFile(standbyPid); err != nil || strings.TrimSpace(string(b)) == "" {
		t.Errorf("the standby's pidfile once it serves: %q, %v", b, err)
	}
	stop(t, standby, os.Interrupt)
}

// savedNames waits until the registry's state file lists every name.
func savedNames(t *testing.T, ctx context.Context, state string, names ...string) {
	t.Helper()
	for {
		b, err := os.ReadFile(state)
		var saved []struct {
			Name string `json:"name"`
		}
		if err == nil {
			err = json.Unmarshal(b, &saved)
		}
		listed := map[string]bool{}
		for _, e := range saved {
			listed[e.Name] = true
		}
		if !slices.ContainsFunc(names, func(n string) bool { return !listed[n] }) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the state file %s never listed %v: %s, %v", state, names, b, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// --durable=false: the registry creates its queues non-durable, so at_queue components
// from before commit 6ddd4b0 can declare them; one registers and is called.
func TestDurableFalse(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	atq := start(t, "registry", "-u", url, "--debugger=false", "--pidfile", "", "--state", "none", "--durable=false")
	atq.WaitLine("registry listening on ", ready)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	summer, err := pypeer.Register(ctx, url, pypeer.RegisterBody("IntSummator", wire.NewID()), pypeer.Before6ddd4b0,
		map[string]pypeer.Method{"int_sum": pypeer.IntSum})
	if err != nil {
		t.Fatalf("an at_queue component before 6ddd4b0 with --durable=false: %v", err)
	}
	defer summer.Close()
	requester, err := pypeer.Register(ctx, url, pypeer.RegisterBody("SumRequester", wire.NewID()), pypeer.Before6ddd4b0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer requester.Close()
	if ans, err := requester.Call(ctx, "IntSummator", "int_sum", map[string]int{"a": 5, "b": 18}); err != nil || string(ans.Result) != "23" {
		t.Fatalf("call: %s, %v", ans.Raw, err)
	}
	stop(t, atq, os.Interrupt)
}
