package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/metrics"
	reg "github.com/at-technology/atqueue/registry"
	"github.com/at-technology/atqueue/wire"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/console"
	"github.com/at-technology/atqueue/httpapi"
)

// httpShutdownTimeout bounds the HTTP server's shutdown; the calls in flight are
// cancelled at its start, so it takes no time unless a client does not read its answer.
const httpShutdownTimeout = 5 * time.Second

// debugAPI is the debug HTTP API of python -m at_queue (spec §10) in atq registry: the
// listener, bound before anything else starts, and then the inspector component the API
// calls through and the server.
type debugAPI struct {
	ln        net.Listener
	inspector *component.Handle
	srv       *httpapi.Server
	watcher   *actor.PID // receives the registry's calls for the stream
	root      *actor.RootContext
	log       *slog.Logger
	once      sync.Once
}

// listenDebugAPI binds host:port, or says in one sentence why it cannot.
func listenDebugAPI(host string, port int) (*debugAPI, error) {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return &debugAPI{ln: ln}, nil
	}
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("debug HTTP API: %s is already in use (another atq registry, or python -m at_queue?); choose another -dp/--debugger-port, or turn the API off with --debugger=false", addr)
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return nil, fmt.Errorf("debug HTTP API: -dh/--debugger-host %s is not an address of this machine", host)
	case errors.Is(err, syscall.EACCES):
		return nil, fmt.Errorf("debug HTTP API: no permission to listen on %s (ports below 1024 need privileges)", addr)
	case errors.As(err, &dns):
		return nil, fmt.Errorf("debug HTTP API: -dh/--debugger-host %q not found", host)
	}
	return nil, fmt.Errorf("debug HTTP API: cannot listen on %s: %w", addr, err)
}

// start registers the inspector (inspector-<uuid4>, as Python names it, so that front ends
// that filter it out keep doing so) in sys and serves the API and the web console on the
// listener.
func (d *debugAPI) start(ctx context.Context, sys *actors.System, registryPID *actor.PID, m *metrics.Metrics, callTimeout time.Duration, log *slog.Logger) error {
	h, err := sys.Spawn(ctx, component.New("inspector-"+uuid.NewString()))
	if err != nil {
		return fmt.Errorf("debug HTTP API: starting its inspector component: %w", err)
	}
	api, err := httpapi.New(h, httpapi.WithCallTimeout(callTimeout), httpapi.WithLogger(log))
	if err != nil {
		return fmt.Errorf("debug HTTP API: %w", err)
	}
	// The stream of calls: the registry tells a watcher actor of each call while a
	// client of the stream is connected.
	root := sys.Root()
	var calls *console.Calls
	watcher := root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if ev, ok := c.Message().(*wire.CallEvent); ok {
			calls.Publish(ev)
		}
	}))
	calls = console.NewCalls(func(active bool) {
		if active {
			root.RequestWithCustomSender(registryPID, &reg.Watch{}, watcher)
		} else {
			root.RequestWithCustomSender(registryPID, &reg.Unwatch{}, watcher)
		}
	})
	d.watcher, d.root = watcher, root
	con, err := console.New(h, console.WithTimeout(callTimeout), console.WithLogger(log),
		console.WithCallStream(strings.TrimPrefix(console.PathCalls, "/")))
	if err != nil {
		return fmt.Errorf("web console: %w", err)
	}
	con.Register(api)
	api.Handle("GET "+console.PathCalls, calls)
	api.Handle("GET /metrics", m.Handler())
	d.inspector, d.log = h, log
	d.srv = httpapi.Serve(d.ln, api, log)
	return nil
}

// url is where the API is served.
func (d *debugAPI) url() string { return "http://" + d.ln.Addr().String() }

// close stops the server (the calls in flight are answered 503), or releases the
// listener when nothing was served. It waits and is idempotent; the inspector is stopped
// with the actor system, after it.
func (d *debugAPI) close() {
	d.once.Do(func() {
		if d.srv == nil {
			_ = d.ln.Close()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), httpShutdownTimeout)
		defer cancel()
		if err := d.srv.Shutdown(ctx); err != nil {
			d.log.Warn("debug HTTP API: shutdown", "err", err)
		}
		if d.watcher != nil {
			_ = d.root.StopFuture(d.watcher).Wait()
		}
	})
}
