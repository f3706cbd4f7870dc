package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/at-technology/atqueue/actors"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/httpapi"
	"github.com/at-technology/atqueue/internal/apitest"
	"github.com/at-technology/atqueue/internal/rabbittest"
)

// wait bounds every step of a test: a call, a start, a shutdown.
const wait = 15 * time.Second

// rig is a registry over RabbitMQ (a virtual host of its own), an inspector component,
// IntSummator, and the API calling through the inspector, served on a free port.
type rig struct {
	t         *testing.T
	sys       *actors.System
	inspector *component.Handle
	srv       *httpapi.Server
	base      string // http://127.0.0.1:port
	hc        *http.Client
}

func newRig(t *testing.T, opts ...httpapi.Option) *rig {
	t.Helper()
	url := rabbittest.VHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	log := testLogger(t)
	tr, err := amqpbridge.Dial(ctx, url, amqpbridge.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	sys, err := actors.New(actors.WithTransport(tr), actors.WithLogger(log))
	if err != nil {
		_ = tr.Close()
		t.Fatal(err)
	}
	r := &rig{t: t, sys: sys}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := sys.Shutdown(ctx); err != nil {
			t.Errorf("shutting the system down: %v", err)
		}
	})
	if _, err := sys.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	r.inspector = r.spawn(component.New("inspector-" + uuid.NewString()))
	r.spawn(apitest.IntSummator())
	api, err := httpapi.New(r.inspector, append([]httpapi.Option{httpapi.WithLogger(log)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	r.serve(api)
	return r
}

// serve serves h on a free port of 127.0.0.1 (and makes it the one r talks to); the
// server is shut down before the system.
func (r *rig) serve(h http.Handler) {
	r.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		r.t.Fatal(err)
	}
	srv := httpapi.Serve(ln, h, testLogger(r.t))
	r.srv, r.base = srv, "http://"+srv.Addr().String()
	tr := &http.Transport{}
	r.hc = &http.Client{Transport: tr}
	r.t.Cleanup(func() {
		tr.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			r.t.Errorf("shutting the HTTP server down: %v", err)
		}
	})
}

func (r *rig) spawn(def *component.Component) *component.Handle {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	h, err := r.sys.Spawn(ctx, def)
	if err != nil {
		r.t.Fatalf("starting %s: %v", def.Name(), err)
	}
	return h
}

// answer is an HTTP answer, read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with a deadline and reads the answer; header holds name, value
// pairs.
func (r *rig) do(method, path, body string, header ...string) answer {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.base+path, rd)
	if err != nil {
		r.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

func (r *rig) post(body string) answer {
	r.t.Helper()
	return r.do(http.MethodPost, "/api/exec_method", body)
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
