package procs_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
)

// Bounds on the programs' behaviour, generous for a loaded 2-core machine.
const (
	ready    = 15 * time.Second // until the "listening"/"registered" line
	stopped  = 5 * time.Second  // from a signal to the exit
	finished = 30 * time.Second // a program that runs to its end
)

// seedRuns runs examples/sumrequester against url and checks the two outcomes of the seed
// example.
func seedRuns(t *testing.T, url string) {
	t.Helper()
	req := start(t, "sumrequester", "--amqp", url)
	if code := req.Wait(finished); code != 0 {
		t.Fatalf("sumrequester exited with status %d\nstdout:\n%s\nstderr:\n%s", code, req.Stdout(), req.Stderr())
	}
	out := req.Stdout()
	t.Logf("sumrequester:\n%s", out)
	for _, want := range []string{
		"int_sum(a=5, b=18) = 23\n",
		`int_sum(a=5, b="b") refused: IntSummator.int_sum: invalid arguments: `,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("sumrequester's output lacks %q:\n%s", want, out)
		}
	}
}

func TestSeedAcrossProcesses(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	reg := registry(t, url)
	sum := start(t, "intsummator", "--amqp", url)
	sum.WaitLine("IntSummator registered, session 3b77ae37-4633-3abc-8d5f-e38581de1aba", ready)

	seedRuns(t, url)

	stop(t, sum, syscall.SIGTERM, stopped)
	stop(t, reg, syscall.SIGTERM, stopped)
}

func TestAtqRegistryFromParts(t *testing.T) {
	t.Parallel()
	raw := rabbittest.VHost(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := u.User.Password()
	vhost := strings.TrimPrefix(u.Path, "/")
	reg := start(t, "atq", "registry", "-H", u.Hostname(), "--port", u.Port(), "--user_name", u.User.Username(), "-P", pw, "--virtual-host", vhost,
		"--pidfile", "", "-dp", "0")
	line := reg.WaitLine("registry listening on ", ready)
	if !strings.Contains(line, vhost) || strings.Contains(line, ":"+pw+"@") {
		t.Errorf("listening line %q: want the virtual host %s and a masked password", line, vhost)
	}
	sum := start(t, "intsummator", "--amqp", raw)
	sum.WaitLine("IntSummator registered", ready)

	seedRuns(t, raw)

	stop(t, sum, syscall.SIGINT, stopped)
	stop(t, reg, syscall.SIGINT, stopped)
}

func TestStopOnSignal(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	for name, sig := range map[string]syscall.Signal{"SIGTERM": syscall.SIGTERM, "SIGINT": syscall.SIGINT} {
		t.Run(name, func(t *testing.T) {
			reg := registry(t, url)
			sum := start(t, "intsummator", "--amqp", url)
			sum.WaitLine("IntSummator registered", ready)
			stop(t, sum, sig, stopped)
			stop(t, reg, sig, stopped)
		})
	}
}

func TestUnreachableBroker(t *testing.T) {
	t.Parallel()
	const dead = "amqp://guest:s3cret@127.0.0.1:1/"
	// The programs of this module say it in one sentence for people; the examples, which
	// use only the public API, print the transport's error as it is.
	sentence := []string{"cannot reach RabbitMQ at 127.0.0.1:1 (amqp://guest:***@127.0.0.1:1/", "connection refused", "is the broker running?"}
	plain := []string{"cannot reach RabbitMQ at 127.0.0.1:1: connection refused"}
	for _, tc := range []struct {
		name string
		bin  string
		args []string
		want []string
	}{
		{"intsummator", "intsummator", []string{"--amqp", dead}, plain},
		{"sumrequester", "sumrequester", []string{"--amqp", dead}, plain},
		{"sumrequester --bench", "sumrequester", []string{"--amqp", dead, "--bench", "10"}, sentence},
		{"atq registry -u", "atq", []string{"registry", "-u", dead, "--pidfile", "", "-dp", "0"}, sentence},
		{"atq registry -H -p", "atq", []string{"registry", "-H", "127.0.0.1", "-p", "1", "-P", "s3cret", "--pidfile", "", "-dp", "0"}, sentence},
		{"demo --amqp", "demo", []string{"--amqp", dead}, sentence},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			t0 := time.Now()
			p := start(t, tc.bin, tc.args...)
			code := p.Wait(stopped)
			stderr := p.Stderr()
			if code == 0 {
				t.Errorf("exit status 0, want non-zero")
			}
			for _, want := range tc.want {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			if strings.Contains(stderr, "s3cret") || strings.Contains(p.Stdout(), "s3cret") {
				t.Errorf("the password shows:\n%s%s", p.Stdout(), stderr)
			}
			t.Logf("exit %d after %v: %s", code, time.Since(t0).Round(time.Millisecond), strings.TrimSpace(stderr))
		})
	}
}

func TestSumRequesterBench(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	reg := registry(t, url)
	sum := start(t, "intsummator", "--amqp", url)
	sum.WaitLine("IntSummator registered", ready)

	req := start(t, "sumrequester", "--amqp", url, "--bench", "50", "--concurrency", "8")
	if code := req.Wait(finished); code != 0 {
		t.Fatalf("sumrequester --bench exited with status %d\nstdout:\n%s\nstderr:\n%s", code, req.Stdout(), req.Stderr())
	}
	type stats struct {
		Mode      string   `json:"mode"`
		Calls     int      `json:"calls"`
		CallsPerS float64  `json:"calls_per_s"`
		P50       *float64 `json:"p50_ms"`
		P99       *float64 `json:"p99_ms"`
		Errors    *int     `json:"errors"`
	}
	var got []stats
	for _, l := range strings.Split(req.Stdout(), "\n") {
		if !strings.HasPrefix(l, "{") {
			continue
		}
		var s stats
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			t.Fatalf("not JSON: %q: %v", l, err)
		}
		if !strings.HasPrefix(l, `{"mode": "`) || !strings.Contains(l, `, "calls": `) {
			t.Errorf("line %q is not laid out like {\"mode\": \"serial\", \"calls\": 1000, ...}", l)
		}
		got = append(got, s)
	}
	if len(got) != 2 {
		t.Fatalf("want 2 JSON lines, got %d:\n%s", len(got), req.Stdout())
	}
	for i, want := range []struct {
		mode  string
		calls int
	}{{"serial", 50}, {"concurrent8", 100}} {
		s := got[i]
		if s.Mode != want.mode || s.Calls != want.calls || s.Errors == nil || *s.Errors != 0 || s.CallsPerS <= 0 || s.P50 == nil || s.P99 == nil || *s.P99 < *s.P50 {
			t.Errorf("line %d: %+v, want mode %s, %d calls, no errors, sane figures", i+1, s, want.mode, want.calls)
		}
	}
	stop(t, sum, syscall.SIGTERM, stopped)
	stop(t, reg, syscall.SIGTERM, stopped)
}

func TestDemoEmbedded(t *testing.T) {
	t.Parallel()
	p := start(t, "demo")
	if code := p.Wait(finished); code != 0 {
		t.Fatalf("demo exited with status %d\nstdout:\n%s\nstderr:\n%s", code, p.Stdout(), p.Stderr())
	}
	for _, want := range []string{"transport: embedded (in-process, no broker)", "= 23", "shut down cleanly"} {
		if !strings.Contains(p.Stdout(), want) {
			t.Errorf("demo's output lacks %q:\n%s", want, p.Stdout())
		}
	}
}

func TestDemoOverRabbitMQ(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	p := start(t, "demo", "--amqp", url)
	if code := p.Wait(finished); code != 0 {
		t.Fatalf("demo --amqp exited with status %d\nstdout:\n%s\nstderr:\n%s", code, p.Stdout(), p.Stderr())
	}
	for _, want := range []string{"transport: RabbitMQ at amqp://guest:***@", "= 23", "refused: ", "shut down cleanly"} {
		if !strings.Contains(p.Stdout(), want) {
			t.Errorf("demo's output lacks %q:\n%s", want, p.Stdout())
		}
	}
}

func TestAtqHelp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"help"}, 0, "registry", ""},
		{[]string{"help", "registry"}, 0, "--virtualhost", ""},
		{[]string{"registry", "-h"}, 0, "", "-L, --login, -U, --user, --user-name, --username, --user_name"},
		{[]string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{nil, 2, "", "usage: atq"},
		{[]string{"registry", "--bogus"}, 2, "", "flag provided but not defined"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			p := start(t, "atq", tc.args...)
			if code := p.Wait(stopped); code != tc.code {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, p.Stdout(), p.Stderr())
			}
			if !strings.Contains(p.Stdout(), tc.stdout) || !strings.Contains(p.Stderr(), tc.stderr) {
				t.Errorf("want %q on stdout and %q on stderr\nstdout:\n%s\nstderr:\n%s", tc.stdout, tc.stderr, p.Stdout(), p.Stderr())
			}
		})
	}
}
