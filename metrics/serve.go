package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// ErrServe marks the errors of Serve: no Metrics, or an address that cannot be listened on.
var ErrServe = errors.New("metrics: cannot serve")

// shutdownTimeout bounds the wait for scrapes in progress when a Server stops.
const shutdownTimeout = 5 * time.Second

// Server serves a Metrics at /metrics over HTTP; Metrics.Serve starts it.
type Server struct {
	srv  *http.Server
	addr net.Addr
	quit chan struct{}
	stop sync.Once
	done chan struct{} // closed once both goroutines have returned
	err  error         // the HTTP server's failure, if any; read after done
}

// Serve listens on addr (host:port; port 0 takes a free one) and serves m in Prometheus's
// exposition format at GET /metrics until ctx ends or Close is called. The address is
// bound before Serve returns, so a port in use is its error (wrapping ErrServe). The caller
// must call Close, which waits for the Server's goroutines.
func (m *Metrics) Serve(ctx context.Context, addr string) (*Server, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: no Metrics (nil)", ErrServe)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w on %s: %w", ErrServe, addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	s := &Server{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		addr: ln.Addr(),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.err = err
		}
	}()
	go func() {
		defer close(s.done)
		select {
		case <-ctx.Done():
		case <-s.quit:
		case <-served: // the server failed by itself
		}
		sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
		defer cancel()
		if s.srv.Shutdown(sctx) != nil {
			_ = s.srv.Close() // scrapes still running past the timeout are cut
		}
		<-served
	}()
	return s, nil
}

// Addr is the address the Server listens on (with the port it took, for port 0).
func (s *Server) Addr() net.Addr { return s.addr }

// URL is the address of the metrics, e.g. http://127.0.0.1:9464/metrics.
func (s *Server) URL() string { return "http://" + s.addr.String() + "/metrics" }

// Done is closed once the Server has stopped: after Close, when its context ended, or
// when the HTTP server failed (Close returns why).
func (s *Server) Done() <-chan struct{} { return s.done }

// Close stops the Server (scrapes in progress may finish within a few seconds), waits for
// its goroutines and returns the HTTP server's failure, if it had one. It is safe to call
// more than once, and after ctx ended.
func (s *Server) Close() error {
	s.stop.Do(func() { close(s.quit) })
	<-s.done
	return s.err
}
