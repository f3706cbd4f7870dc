package httpapi_test

import (
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/httpapi"
	"github.com/at-technology/atqueue/internal/testkit/apitest"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/internal/testkit/testlog"
)

const wait = apitest.Wait

// rig is a registry over RabbitMQ (a virtual host of its own), an inspector component,
// IntSummator, and the API calling through the inspector, served on a free port.
type rig struct {
	t         *testing.T
	sys       *actors.System
	inspector *component.Handle
	srv       *httpapi.Server
	c         *apitest.Client
}

func newRig(t *testing.T, opts ...httpapi.Option) *rig {
	t.Helper()
	log := testlog.New(t)
	sys, _ := apitest.System(t, rabbittest.VHost(t), log)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := sys.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, sys: sys}
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
	srv := httpapi.Serve(ln, h, testlog.New(r.t))
	r.srv, r.c = srv, apitest.NewClient(r.t, "http://"+srv.Addr().String())
	r.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			r.t.Errorf("shutting the HTTP server down: %v", err)
		}
	})
}

func (r *rig) spawn(def *component.Component) *component.Handle {
	r.t.Helper()
	return apitest.Spawn(r.t, r.sys, def)
}

// do sends a request and fails the test when no answer comes; header holds name, value
// pairs.
func (r *rig) do(method, path, body string, header ...string) apitest.Answer {
	r.t.Helper()
	a := r.c.Do(method, path, body, header...)
	if a.Err != nil {
		r.t.Fatalf("%s %s: %v", method, path, a.Err)
	}
	return a
}

func (r *rig) post(body string) apitest.Answer {
	r.t.Helper()
	return r.do(http.MethodPost, "/api/exec_method", body)
}
