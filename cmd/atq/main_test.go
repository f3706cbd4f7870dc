package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/at-technology/atqueue/actors"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/internal/proctest"
)

// binDir holds atq, built once by TestMain: the tests run it as a process, as an
// operator would.
var binDir string

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(proctest.Built(m, &binDir, "atq-cmd-", "github.com/at-technology/atqueue/cmd/atq"))
}

// Bounds on the program's behaviour, generous for a loaded 2-core machine.
const (
	ready   = 15 * time.Second // until a "listening" line
	stopped = 10 * time.Second // from a signal, or a refused start, to the exit
	wait    = 15 * time.Second // one HTTP call, one component start
)

// start runs atq with args. $AMQP_URL is removed from its environment and
// $XDG_STATE_HOME is the test's temporary folder; every test passes --pidfile itself, so
// that /var/run/at_queue is never written.
func start(t *testing.T, args ...string) *proctest.Proc {
	t.Helper()
	if !hasFlag(args, "--pidfile") && !hasFlag(args, "-h") && (len(args) == 0 || args[0] == "registry") {
		t.Fatalf("the test must pass --pidfile: %v", args)
	}
	return proctest.Start(t, filepath.Join(binDir, "atq"), args,
		proctest.Unset("AMQP_URL"), proctest.Setenv("XDG_STATE_HOME", t.TempDir()))
}

func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

// stop sends sig to p and requires exit status 0.
func stop(t *testing.T, p *proctest.Proc, sig os.Signal) {
	t.Helper()
	if code := p.Stop(sig, stopped); code != 0 {
		t.Fatalf("%s exited with status %d after %v, want 0\nstdout:\n%s\nstderr:\n%s", p.Name(), code, sig, p.Stdout(), p.Stderr())
	}
}

// system is an actor system of the test's own over RabbitMQ at url, to run components
// that atq's registry routes to; it is shut down at the end of the test, or by the
// returned function before.
func system(t *testing.T, url string) (*actors.System, func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tr, err := amqpbridge.Dial(ctx, url, amqpbridge.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	sys, err := actors.New(actors.WithTransport(tr), actors.WithLogger(log))
	if err != nil {
		_ = tr.Close()
		t.Fatal(err)
	}
	down := func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := sys.Shutdown(ctx); err != nil {
			t.Errorf("shutting the test's system down: %v", err)
		}
	}
	t.Cleanup(down)
	return sys, down
}

func spawn(t *testing.T, sys *actors.System, def *component.Component) *component.Handle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	h, err := sys.Spawn(ctx, def)
	if err != nil {
		t.Fatalf("starting %s: %v", def.Name(), err)
	}
	return h
}

// client sends HTTP requests to one base URL with a deadline each.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newClient(t *testing.T, base string) *client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{t: t, base: base, hc: &http.Client{Transport: tr}}
}

type answer struct {
	status int
	header http.Header
	body   []byte
	err    error
}

// do sends the request; header holds name, value pairs.
func (c *client) do(method, path, body string, header ...string) answer {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return answer{err: err}
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b, err: err}
}

func (c *client) post(body string) answer {
	return c.do(http.MethodPost, "/api/exec_method", body)
}
