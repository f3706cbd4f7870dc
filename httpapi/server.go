package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server timeouts: a client has this long to send its request headers, and a kept-alive
// connection is closed after this long without a request. The body is bounded by the
// API's size limit, the handlers by the call timeout.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 2 * time.Minute
)

// Server serves an http.Handler on a listener from a goroutine it owns, until Shutdown.
type Server struct {
	srv    *http.Server
	ln     net.Listener
	cancel context.CancelFunc
	done   chan struct{} // closed when the serving goroutine has returned
	err    error         // why serving stopped, other than Shutdown; set before done closes

	once    sync.Once
	stopErr error
}

// Serve serves h on ln, which it owns from now on, until Shutdown. Binding is the
// caller's (net.Listen), so that a taken address is found before anything else starts.
// log receives the errors of the HTTP server itself (nil: discard).
func Serve(ln net.Listener, h http.Handler, log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base, cancel := context.WithCancel(context.Background())
	s := &Server{ln: ln, cancel: cancel, done: make(chan struct{})}
	s.srv = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.err = err
			log.Error("the HTTP server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	return s
}

// Addr is the address the server listens on (the port chosen when it was 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown stops listening, cancels the requests in flight (their calls are answered 503
// at once rather than waiting for their deadline), waits for their handlers within ctx and
// then closes every connection. It waits for the serving goroutine, is idempotent, and
// returns why serving had stopped before, if it had, or ctx's error when the handlers did
// not finish in time.
func (s *Server) Shutdown(ctx context.Context) error {
	s.once.Do(func() {
		s.cancel()
		err := s.srv.Shutdown(ctx)
		if err != nil {
			_ = s.srv.Close()
		}
		<-s.done
		s.stopErr = errors.Join(s.err, err)
	})
	return s.stopErr
}
