package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/at-technology/atqueue/internal/cli"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds each step of the demo on a loaded machine.
const wait = 20 * time.Second

// With --metrics the demo serves its collectors while it runs, keeps running after the
// scene, and stops cleanly when its context ends (a signal, in the program).
func TestDemoServesMetrics(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"--metrics", "127.0.0.1:0"}, pw)
		pw.Close()
		done <- err
	}()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	next := func(prefix string) string {
		t.Helper()
		timeout := time.After(wait)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the demo ended before a line starting %q: %v", prefix, <-done)
				}
				if strings.HasPrefix(l, prefix) {
					return l
				}
			case <-timeout:
				t.Fatalf("no line starting %q within %v", prefix, wait)
			}
		}
	}
	url := strings.TrimPrefix(next("metrics: "), "metrics: ")
	next("serving " + url)

	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`atq_call_seconds_count{method="int_sum",outcome="ok",receiver="IntSummator"} 1`,
		`atq_call_seconds_count{method="int_sum",outcome="invalid arguments",receiver="IntSummator"} 1`,
		`atq_call_seconds_count{method="flaky_sum",outcome="crashed",receiver="Flaky"} 1`,
		`atq_supervisor_restarts_total{actor="Flaky"} 1`,
	} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("/metrics has no line %q", want)
		}
	}

	cancel()
	go func() { // the rest of the output, until the pipe closes
		for range lines {
		}
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after the context ended: %v", err)
		}
	case <-time.After(wait):
		t.Fatalf("the demo still runs %v after its context ended", wait)
	}
}

// -h is not an error (cli.Main exits 0 for flag.ErrHelp); a bad --metrics is a usage error.
func TestDemoOptions(t *testing.T) {
	if err := run(context.Background(), []string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
	if err := run(context.Background(), []string{"--metrics", "9464"}, io.Discard); !errors.Is(err, cli.ErrUsage) {
		t.Errorf("--metrics 9464: %v, want a usage error", err)
	}
}
