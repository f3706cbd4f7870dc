package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/internal/testkit/apitest"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/wire"
)

// Operating a registry: atq watch shows each call as it ends, the web console's stream
// (GET /api/calls) carries the same, and GET /metrics counts them, in Prometheus's format.
func TestWatchStreamAndMetrics(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	reg := start(t, "registry", "-u", url, "-dp", "0", "--pidfile", "", "--state", "none")
	base := listening(t, reg.WaitLine("debug HTTP API listening on ", ready))
	reg.WaitLine("registry listening on ", ready)
	defer stop(t, reg, os.Interrupt)
	sys, _ := apitest.System(t, url, nil)
	apitest.Spawn(t, sys, apitest.IntSummator())
	caller := apitest.Spawn(t, sys, component.New("Caller"))
	ctx, cancel := context.WithTimeout(context.Background(), apitest.Wait)
	defer cancel()

	watch := start(t, "watch", "-u", url, "--json")
	// The stream of the console, read as a browser's EventSource would.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/calls", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("/api/calls: Content-Type %q", ct)
	}
	sse := make(chan wire.CallEvent, 16)
	go readCalls(resp.Body, sse)

	// Calls go on until both the watcher and the stream have seen one: they subscribe
	// asynchronously.
	seen := func() bool {
		var sum int
		if err := caller.Call(ctx, "IntSummator", "int_sum", map[string]int{"a": 5, "b": 18}, &sum); err != nil || sum != 23 {
			t.Fatalf("call: %d, %v", sum, err)
		}
		return strings.Contains(watch.Stdout(), `"to":"IntSummator"`) && len(sse) > 0
	}
	for !seen() {
		select {
		case <-ctx.Done():
			t.Fatalf("atq watch printed:\n%s\nthe stream got %d events", watch.Stdout(), len(sse))
		case <-time.After(50 * time.Millisecond):
		}
	}
	line := watch.WaitLine(`"to":"IntSummator"`, ready)
	var ev wire.CallEvent
	if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.From != "Caller" || ev.Method != "int_sum" || ev.Outcome != "ok" || ev.Ms <= 0 {
		t.Errorf("atq watch --json line %q: %+v, %v", line, ev, err)
	}
	if ev := <-sse; ev.To != "IntSummator" || ev.Method != "int_sum" || ev.Outcome != "ok" {
		t.Errorf("the console's stream: %+v", ev)
	}
	stop(t, watch, os.Interrupt) // SIGINT is how a watch ends: status 0

	mresp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer mresp.Body.Close()
	body, _ := io.ReadAll(mresp.Body)
	for _, want := range []string{
		`atq_registry_calls_routed_total{method="int_sum",receiver="IntSummator"}`,
		`atq_registry_call_outcomes_total{method="int_sum",outcome="ok",receiver="IntSummator"}`,
		`atq_registry_call_seconds_bucket{method="int_sum",receiver="IntSummator"`,
		"atq_registry_components ",
		"atq_registry_components_alive ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics has no %s", want)
		}
	}
}

// readCalls reads server-sent "call" events.
func readCalls(r io.Reader, out chan<- wire.CallEvent) {
	sc := bufio.NewScanner(r)
	event := ""
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "event: "):
			event = strings.TrimPrefix(l, "event: ")
		case strings.HasPrefix(l, "data: ") && event == "call":
			var ev wire.CallEvent
			if json.Unmarshal([]byte(strings.TrimPrefix(l, "data: ")), &ev) == nil {
				select {
				case out <- ev:
				default:
				}
			}
		}
	}
}
