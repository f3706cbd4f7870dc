package dropin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/at-technology/atqueue/actors"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/internal/testkit/pypeer"
	"github.com/at-technology/atqueue/internal/testkit/testlog"
	"github.com/at-technology/atqueue/wire"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// process is one actor system with its own AMQP connection, like a separate program. Its
// shutdown is registered with t.Cleanup; stop ends it earlier.
func process(t *testing.T, url string, opts ...amqpbridge.Option) (sys *actors.System, stop func()) {
	t.Helper()
	return processLogged(t, url, testlog.New(t, testlog.WithLevel(slog.LevelWarn)), opts...)
}

// processLogged is process with the runtime's logger given.
func processLogged(t *testing.T, url string, log *slog.Logger, opts ...amqpbridge.Option) (sys *actors.System, stop func()) {
	t.Helper()
	opts = append([]amqpbridge.Option{amqpbridge.WithLogger(quiet())}, opts...)
	sys, err := actors.New(actors.WithBroker(amqpbridge.NewBroker(url, opts...)), actors.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := sys.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}
	t.Cleanup(stop)
	return sys, stop
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func deadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

type sumArgs struct {
	A int `json:"a"`
	B int `json:"b"`
}

// summator is a Go component named name with int_sum.
func summator(name string) *component.Component {
	c := component.New(name)
	component.Method(c, "int_sum", func(_ context.Context, in sumArgs) (int, error) { return in.A + in.B, nil })
	return c
}

// pyRegister registers a Python-like peer name playing v, serving int_sum.
func pyRegister(t *testing.T, ctx context.Context, url, name string, v pypeer.Version) *pypeer.Peer {
	t.Helper()
	p, err := pypeer.Register(ctx, url, pypeer.RegisterBody(name, wire.NewID()), v, map[string]pypeer.Method{"int_sum": pypeer.IntSum})
	if err != nil {
		t.Fatalf("Python peer %s: %v", name, err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// wantSum checks a Python peer's call of int_sum(5, 18).
func wantSum(t *testing.T, ctx context.Context, p *pypeer.Peer, target string) {
	t.Helper()
	ans, err := p.Call(ctx, target, "int_sum", map[string]int{"a": 5, "b": 18})
	if err != nil {
		t.Fatalf("%s calls %s: %v", p.Name, target, err)
	}
	if ans.HasErrors || string(ans.Result) != "23" {
		t.Fatalf("%s calls %s: answer %s, want result 23", p.Name, target, ans.Raw)
	}
}

// inspectAlive reads the "alive" flag of name's broker record (true when absent).
func inspectAlive(ctx context.Context, h *component.Handle, name string) (bool, error) {
	raw, err := h.Inspect(ctx, name)
	if err != nil {
		return false, err
	}
	var rec struct {
		Broker struct {
			Alive *bool `json:"alive"`
		} `json:"broker"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return false, fmt.Errorf("inspect %s: %s", name, raw)
	}
	return rec.Broker.Alive == nil || *rec.Broker.Alive, nil
}

// logWatch is a slog.Handler that keeps every record, so that a test can wait for the one
// that tells what it needs to know (the registry saw a component consume, say).
type logWatch struct {
	mu     sync.Mutex
	lines  []string
	signal chan struct{} // closed and replaced when a line is added
}

func newLogWatch() *logWatch { return &logWatch{signal: make(chan struct{})} }

func (w *logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (w *logWatch) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w *logWatch) WithGroup(string) slog.Handler            { return w }

func (w *logWatch) Handle(_ context.Context, r slog.Record) error {
	line := r.Message
	r.Attrs(func(a slog.Attr) bool {
		line += " " + a.String()
		return true
	})
	w.mu.Lock()
	w.lines = append(w.lines, line)
	close(w.signal)
	w.signal = make(chan struct{})
	w.mu.Unlock()
	return nil
}

// wait returns once a line holding every one of parts was logged, or fails t at ctx's end.
func (w *logWatch) wait(t *testing.T, ctx context.Context, parts ...string) {
	t.Helper()
	seen := 0
	for {
		w.mu.Lock()
		lines, signal := w.lines[seen:], w.signal
		seen = len(w.lines)
		w.mu.Unlock()
		for _, l := range lines {
			if containsAll(l, parts) {
				return
			}
		}
		select {
		case <-signal:
		case <-ctx.Done():
			t.Fatalf("no log line with %q", parts)
		}
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
