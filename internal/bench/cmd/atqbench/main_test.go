package main

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The smallest run of every part, over the real broker: each stdout line is a JSON
// object that starts with its mode, every measurement is there, and the summary names
// every target with a value. No figure is judged: this machine's speed is not a test.
func TestSmallestRun(t *testing.T) {
	url := rabbittest.VHost(t) // fails clearly without a broker; atqbench makes its own virtual hosts beside it
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	err := run(ctx, strings.Fields("--amqp "+url+" --rounds 1 --serial 10 --concurrent 20 --inflight 4 --inproc-serial 50 --inproc-concurrent 200"+
		" --scale 4,6 --scale-calls 5 --burst 6 --parallel 3 --floor-parallel 2"), &out, &errOut)
	t.Logf("stderr:\n%s", errOut.String())
	if err != nil {
		t.Fatalf("run: %v\nstdout:\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var modes []string
	var summary struct {
		Mode    string `json:"mode"`
		Targets []struct {
			Name  string   `json:"name"`
			Value *float64 `json:"value"`
			Met   *bool    `json:"met"`
		} `json:"targets"`
		Failures *int `json:"failures"`
	}
	for _, l := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("not a JSON object: %q: %v", l, err)
		}
		if !strings.HasPrefix(l, `{"mode": "`) {
			t.Errorf("line does not start with its mode: %q", l)
		}
		mode, _ := v["mode"].(string)
		modes = append(modes, mode)
		if _, ok := v["calls"]; ok && (v["errors"] != 0.0 || v["p50_ms"] == nil || v["calls_per_s"] == nil) {
			t.Errorf("call measurement with errors or without figures: %s", l)
		}
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &summary); err != nil || summary.Mode != "summary" {
		t.Fatalf("the last line is not the summary: %q (%v)", lines[len(lines)-1], err)
	}
	for _, want := range []string{
		"machine",
		"inproc-future-serial", "inproc-call-serial", "inproc-future-concurrent4", "inproc-call-concurrent4",
		"relay-confirms-serial", "relay-serial", "atq-direct-serial", "atq-routed-serial", "atq-python-serial",
		"relay-confirms-concurrent4", "relay-concurrent4", "atq-direct-concurrent4", "atq-routed-concurrent4", "atq-python-concurrent4",
		"scale-register", "scale-registry-memory", "scale4-direct-serial", "scale4-routed-serial", "scale4-relay-serial",
		"scale6-direct-serial", "scale6-routed-serial", "scale6-relay-serial",
		"scale-memory-per-component",
		"burst-floor-create", "burst-floor-redeclare", "burst-floor-registrations-fresh", "burst-floor-registrations-existing",
		"burst-fresh", "burst-fresh-direct-caller", "burst-fresh-routed-caller",
		"burst-existing", "burst-existing-direct-caller", "burst-existing-routed-caller",
	} {
		if !slices.Contains(modes, want) {
			t.Errorf("no %q line in:\n%s", want, out.String())
		}
	}
	got := map[string]bool{}
	for _, tg := range summary.Targets {
		got[tg.Name] = true
		if tg.Value == nil || tg.Met == nil {
			t.Errorf("target %s has no value or verdict", tg.Name)
		}
	}
	for _, tg := range targets {
		if !got[tg.key] {
			t.Errorf("the summary does not name the target %s", tg.key)
		}
	}
	if len(summary.Targets) != len(targets) || summary.Failures == nil || *summary.Failures != 0 {
		t.Errorf("summary: %d targets (want %d), failures %v", len(summary.Targets), len(targets), summary.Failures)
	}
	for _, tg := range targets {
		if !strings.Contains(errOut.String(), strings.ReplaceAll(tg.label, "64 in flight", "4 in flight")) {
			t.Errorf("the summary for people lacks %q", tg.label)
		}
	}
}
