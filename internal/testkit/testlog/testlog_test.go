package testlog_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/at-technology/atqueue/internal/testkit/testlog"
)

// recorder is a testing.TB that keeps what is logged and the cleanups registered.
type recorder struct {
	testing.TB
	lines    []string
	cleanups []func()
}

func (r *recorder) Helper()          {}
func (r *recorder) Log(args ...any)  { r.lines = append(r.lines, fmt.Sprint(args...)) }
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

func (r *recorder) cleanup() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func TestLinesLevelAndPrefix(t *testing.T) {
	r := &recorder{TB: t}
	log := testlog.New(r, testlog.WithLevel(slog.LevelWarn), testlog.WithPrefix("caller"))
	log.Info("not shown")
	log.Warn("call failed", "attempt", 2)
	if len(r.lines) != 1 {
		t.Fatalf("got %d lines, want 1: %q", len(r.lines), r.lines)
	}
	if l := r.lines[0]; !strings.HasPrefix(l, "caller: time=") || !strings.HasSuffix(l, `level=WARN msg="call failed" attempt=2`) {
		t.Errorf("line %q: want the prefix, the text record and no trailing newline", l)
	}
}

func TestDebugByDefault(t *testing.T) {
	r := &recorder{TB: t}
	testlog.New(r).Debug("detail")
	if len(r.lines) != 1 || !strings.Contains(r.lines[0], "level=DEBUG msg=detail") || strings.Contains(r.lines[0], ": time=") {
		t.Errorf("lines %q: want one debug record without a prefix", r.lines)
	}
}

func TestNothingAfterCleanup(t *testing.T) {
	r := &recorder{TB: t}
	log := testlog.New(r)
	r.cleanup()
	log.Error("late")
	if len(r.lines) != 0 {
		t.Errorf("logged after the cleanup: %q", r.lines)
	}
}
