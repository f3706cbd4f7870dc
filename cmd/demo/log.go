package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// personHandler writes log records as one short indented line each, for people
// watching the demo: "  ! component restarts: component=Flaky restarts=1 delay=6ms".
type personHandler struct {
	mu    *sync.Mutex
	out   io.Writer
	level slog.Level
	attrs []slog.Attr
}

func newPersonHandler(out io.Writer, level slog.Level) *personHandler {
	return &personHandler{mu: &sync.Mutex{}, out: out, level: level}
}

func (h *personHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *personHandler) Handle(_ context.Context, r slog.Record) error {
	mark := " "
	if r.Level >= slog.LevelWarn {
		mark = "!"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  %s %s", mark, r.Message)
	sep := ": "
	add := func(a slog.Attr) bool {
		if a.Key == "reason" || a.Key == "panic" || a.Key == "stack" {
			return true // the caller's line says why; keep these lines short
		}
		v := a.Value.Resolve()
		if v.Kind() == slog.KindDuration {
			v = slog.DurationValue(v.Duration().Round(100 * time.Microsecond))
		}
		fmt.Fprintf(&b, "%s%s=%v", sep, a.Key, v)
		sep = " "
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := io.WriteString(h.out, b.String())
	return err
}

func (h *personHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &c
}

func (h *personHandler) WithGroup(string) slog.Handler { return h }
