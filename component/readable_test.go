package component_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/component"
)

// records keeps every log record with its attributes.
type records struct {
	mu   sync.Mutex
	recs []map[string]string
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *records) WithGroup(string) slog.Handler            { return r }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	m := map[string]string{"msg": rec.Message, "level": rec.Level.String()}
	rec.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
	r.mu.Lock()
	r.recs = append(r.recs, m)
	r.mu.Unlock()
	return nil
}

func (r *records) find(msg string, match func(map[string]string) bool) map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.recs {
		if m["msg"] == msg && match(m) {
			return m
		}
	}
	return nil
}

type pointArgs struct {
	X int    `json:"x"`
	Y int    `json:"y"`
	S string `json:"s"`
}

// Errors a person can read, and logs a person can debug with: an invalid-arguments error
// is one line naming each failing field, a result of the wrong type is a typed error, a
// call leaves one debug line, and a method's panic leaves its stack.
func TestReadableErrorsAndLogs(t *testing.T) {
	logs := &records{}
	sys := newSystem(t, actors.WithLogger(slog.New(logs)))
	c := component.New("Points")
	component.Method(c, "norm", func(_ context.Context, in pointArgs) (string, error) { return "not a number", nil })
	component.Method(c, "boom", func(context.Context, struct{}) (int, error) { panic("kaboom") })
	spawn(t, sys, c)
	req := spawn(t, sys, component.New("Caller"))
	ctx := ctxT(t)

	err := req.Call(ctx, "Points", "norm", map[string]any{"x": "one", "y": 2.5, "s": "ok"}, nil)
	if !errors.Is(err, component.ErrInvalidArguments) {
		t.Fatalf("err = %v", err)
	}
	if text := err.Error(); strings.Contains(text, "\n") || !strings.Contains(text, "x: ") || !strings.Contains(text, "y: ") {
		t.Errorf("an invalid-arguments error should be one line naming x and y:\n%s", text)
	}
	var re *component.RemoteError
	if !errors.As(err, &re) || !json.Valid(re.Items[0].Raw) {
		t.Errorf("the Python error object is not kept: %#v", re)
	}

	var n int
	err = req.Call(ctx, "Points", "norm", pointArgs{X: 1, Y: 2}, &n)
	var rerr *component.ResultError
	if !errors.Is(err, component.ErrBadAnswer) || !errors.As(err, &rerr) || string(rerr.Result) != `"not a number"` {
		t.Errorf("a result that does not fit: %v", err)
	}
	if line := logs.find("call", func(m map[string]string) bool { return m["receiver"] == "Points" && m["outcome"] == "ok" }); line == nil ||
		line["caller"] != "Caller" || line["method"] != "norm" || line["latency"] == "" || line["message_id"] == "" || line["level"] != "DEBUG" {
		t.Errorf("the call's debug line: %v", line)
	}

	if err := req.Call(ctx, "Points", "boom", nil, nil); !errors.Is(err, component.ErrCrashed) {
		t.Fatalf("panic: %v", err)
	}
	if line := logs.find("method panicked", func(map[string]string) bool { return true }); line == nil ||
		!strings.Contains(line["stack"], "goroutine") || line["panic"] != "kaboom" {
		t.Errorf("the panic's log line: %v", line)
	}
}
