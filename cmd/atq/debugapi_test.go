package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/at-technology/atqueue/internal/testkit/apitest"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
)

// listening waits for the API's line and returns its base URL.
func listening(t *testing.T, line string) string {
	t.Helper()
	_, rest, _ := strings.Cut(line, "debug HTTP API listening on ")
	base, _, _ := strings.Cut(rest, " ")
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("listening line %q", line)
	}
	return base
}

// atq registry in place of python -m at_queue: a front end's HTTP calls get the Python
// server's answers, over RabbitMQ, through an inspector-<uuid> component; the pidfile
// holds the pid while it runs; SIGTERM ends it with status 0, the pidfile removed and the
// inspector unregistered.
func TestDebugAPI(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "run", "at_queue", "pidfile.pid")
	state := filepath.Join(dir, "registry.json")
	atq := start(t, "registry", "-u", url, "-dp", "0", "--pidfile", pidfile, "--state", state, "--call-timeout", "1s")
	c := apitest.NewClient(t, listening(t, atq.WaitLine("debug HTTP API listening on ", ready)))
	atq.WaitLine("registry listening on ", ready)

	if b, err := os.ReadFile(pidfile); err != nil || string(b) != strconv.Itoa(atq.Pid())+"\n" {
		t.Errorf("pidfile: %q, %v; want %d", b, err, atq.Pid())
	}

	sys, down := apitest.System(t, url, nil)
	sum := apitest.Spawn(t, sys, apitest.IntSummator())
	apitest.SameAsGolden(t, c.Do(http.MethodGet, "/api/components", ""), "get_components")
	apitest.SameAsGolden(t, c.Post(`{"component": "IntSummator", "method": "int_sum", "kwargs": {"a": 5, "b": 18}}`), "post_exec_method_ok")
	apitest.SameAsGolden(t, c.Post(`{"component": "IntSummator", "method": "int_sum", "kwargs": {"a": 5, "b": "b"}}`), "post_exec_method_validation_error")
	apitest.SameAsGolden(t, c.Post(`{"component": "NoSuchComponent", "method": "int_sum", "kwargs": {"a": 5, "b": 18}}`), "post_exec_method_unknown_component")
	apitest.SameAsGolden(t, c.Post(`{"component": "IntSummator"}`), "post_exec_method_bad_body")
	apitest.SameAsGolden(t, c.Do(http.MethodGet, "/openapi.json", ""), "openapi.json")

	apitest.Spawn(t, sys, apitest.Guard())
	apitest.SameAsGolden(t, c.Post(`{"component": "Guard", "method": "add", "kwargs": {"a": 1, "b": 2}, "auth_token": "tok"}`), "post_exec_method_with_auth_token")
	if got := c.Post(`{"component": "Guard", "method": "whoami", "kwargs": {}, "auth_token": "token-7"}`); got.Status != 200 || string(got.Body) != `{"result":"token-7"}` {
		t.Errorf("the auth_token header: %d %s %v", got.Status, got.Body, got.Err)
	}

	// The same directory as the registry's inspect_all.
	ctx, cancel := context.WithTimeout(context.Background(), apitest.Wait)
	defer cancel()
	raw, err := sum.InspectAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := c.Do(http.MethodGet, "/api/components", "")
	var want bytes.Buffer
	if err := json.Compact(&want, raw); err != nil || string(got.Body) != want.String() {
		t.Errorf("GET /api/components\n got %s\nwant %s (%v)", got.Body, want.String(), err)
	}
	var names []string
	dec := json.NewDecoder(bytes.NewReader(got.Body))
	for tok, err := dec.Token(); err == nil; tok, err = dec.Token() {
		if s, ok := tok.(string); ok && dec.More() && (strings.HasPrefix(s, "inspector-") || s == "IntSummator" || s == "Guard") {
			names = append(names, s)
		}
	}
	if len(names) < 3 || !strings.HasPrefix(names[0], "inspector-") || !strings.Contains(strings.Join(names, " "), "IntSummator Guard") {
		t.Errorf("components %v: want the inspector, IntSummator and Guard", names)
	}

	// CORS, preflight included.
	const origin = "http://console.example"
	pre := c.Do(http.MethodOptions, "/api/exec_method", "", "Origin", origin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	if pre.Status != 200 || pre.Header.Get("Access-Control-Allow-Origin") != origin || pre.Header.Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.Contains(pre.Header.Get("Access-Control-Allow-Methods"), "POST") || pre.Header.Get("Access-Control-Allow-Headers") != "content-type" {
		t.Errorf("preflight: %d %v", pre.Status, pre.Header)
	}

	// A component that never answers: 504 at the call timeout.
	apitest.Spawn(t, sys, apitest.Silent(nil))
	begin := time.Now()
	hang := c.Post(`{"component": "Mute", "method": "hang", "kwargs": {}}`)
	if hang.Status != http.StatusGatewayTimeout || !bytes.Contains(hang.Body, []byte(`{"detail":{"error_message":"No answer from Mute to method hang within 1s","error_type":"TimeoutException",`)) {
		t.Errorf("a call with no answer: %d %s %v", hang.Status, hang.Body, hang.Err)
	}
	if took := time.Since(begin); took < time.Second {
		t.Errorf("answered after %v, before the call timeout", took)
	}

	down()
	stop(t, atq, syscall.SIGTERM)
	if _, err := os.Stat(pidfile); !os.IsNotExist(err) {
		t.Errorf("the pidfile is still there after SIGTERM: %v", err)
	}
	if b, err := os.ReadFile(state); err != nil || bytes.Contains(b, []byte("inspector-")) {
		t.Errorf("the inspector did not unregister: state %s, %v", b, err)
	}
}

// SIGINT while a call is in flight: the call is answered 503 at once and atq exits 0,
// where Python hangs.
func TestSignalDuringCall(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	atq := start(t, "registry", "-u", url, "-dp", "0", "--pidfile", "", "--state", "none", "--call-timeout", "5m")
	c := apitest.NewClient(t, listening(t, atq.WaitLine("debug HTTP API listening on ", ready)))
	atq.WaitLine("registry listening on ", ready)
	sys, _ := apitest.System(t, url, nil)
	started := make(chan struct{})
	apitest.Spawn(t, sys, apitest.Silent(started))
	got := make(chan apitest.Answer, 1)
	go func() { got <- c.Post(`{"component": "Mute", "method": "hang", "kwargs": {}}`) }()
	select {
	case <-started:
	case <-time.After(apitest.Wait):
		t.Fatal("the call did not reach Mute")
	}
	stop(t, atq, syscall.SIGINT)
	a := <-got // the client's deadline bounds it
	if a.Err != nil || a.Status != http.StatusServiceUnavailable || !bytes.Contains(a.Body, []byte(`"error_type":"ShutdownException"`)) {
		t.Errorf("the call in flight: %d %s %v", a.Status, a.Body, a.Err)
	}
	if i, j := strings.Index(atq.Stderr(), "shutting down"), strings.Index(atq.Stderr(), "component stopped"); i < 0 || j < i {
		t.Errorf("stderr does not show the shutdown before the inspector stops:\n%s", atq.Stderr())
	}
}
