package testlog

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// Option configures New.
type Option func(*config)

type config struct {
	level  slog.Leveler
	prefix string
}

// WithLevel sets the lowest level written (default slog.LevelDebug).
func WithLevel(l slog.Leveler) Option { return func(c *config) { c.level = l } }

// WithPrefix starts every line with who and ": ", to tell apart the loggers of one test.
func WithPrefix(who string) Option { return func(c *config) { c.prefix = who + ": " } }

// New returns a logger that writes text records to t.Log until t's cleanup has run.
func New(t testing.TB, opts ...Option) *slog.Logger {
	c := config{level: slog.LevelDebug}
	for _, o := range opts {
		o(&c)
	}
	w := &writer{t: t, prefix: c.prefix}
	t.Cleanup(w.close) // registered before the caller's own cleanups, so it runs after them
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: c.level}))
}

// writer hands each record (one Write per record, from slog's handler) to t.Log.
type writer struct {
	t      testing.TB
	prefix string

	mu     sync.Mutex
	closed bool
}

func (w *writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(w.prefix + strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

func (w *writer) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}
