package proctest_test

import (
	"fmt"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/at-technology/atqueue/internal/testkit/proctest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func sh(t testing.TB, script string, opts ...proctest.Option) *proctest.Proc {
	t.Helper()
	return proctest.Start(t, "/bin/sh", []string{"-c", script}, opts...)
}

func TestLinesEnvAndSignals(t *testing.T) {
	t.Setenv("PROCTEST_GONE", "x")
	t.Setenv("PROCTEST_SET", "old")
	p := sh(t, `echo "gone=$PROCTEST_GONE set=$PROCTEST_SET"; echo oops >&2; echo ready; exec sleep 60`,
		proctest.Unset("PROCTEST_GONE"), proctest.Setenv("PROCTEST_SET", "new"))
	if got := p.WaitLine("ready", 5*time.Second); got != "ready" {
		t.Errorf("WaitLine = %q", got)
	}
	if got, want := p.Stdout(), "gone= set=new\nready"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	p.WaitStderr("oops", 0, 5*time.Second)
	p.Signal(syscall.SIGSTOP)
	p.Signal(syscall.SIGCONT)
	if code := p.Stop(syscall.SIGTERM, 5*time.Second); code != -1 || !p.Exited() {
		t.Errorf("Stop = %d, exited %v; want -1 (killed by a signal), true", code, p.Exited())
	}
	if code := p.Stop(syscall.SIGTERM, time.Second); code != -1 {
		t.Errorf("Stop of an exited process = %d, want its status -1", code)
	}

	q := sh(t, "exit 3")
	if code := q.Wait(5 * time.Second); code != 3 {
		t.Errorf("Wait = %d, want 3", code)
	}
}

// fatalTB records the first Fatalf and ends the goroutine, as testing.T's does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// fatal runs f with a fatalTB over t and returns what it failed with, "" if nothing.
func fatal(t *testing.T, f func(tb testing.TB)) string {
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(tb)
	}()
	<-done
	return tb.msg
}

func TestFailures(t *testing.T) {
	msg := fatal(t, func(tb testing.TB) {
		sh(tb, "echo one; echo two >&2; exit 2").WaitLine("never", 5*time.Second)
	})
	if !strings.Contains(msg, "exited with status 2 before printing \"never\"") || !strings.Contains(msg, "stdout:\none\nstderr:\ntwo") {
		t.Errorf("WaitLine after exit failed with %q", msg)
	}
	msg = fatal(t, func(tb testing.TB) {
		sh(tb, "seq 1 50 >&2; exec sleep 60", proctest.StderrTail(2)).WaitLine("never", 200*time.Millisecond)
	})
	if !strings.Contains(msg, "printed no line with \"never\" within 200ms") || !strings.HasSuffix(msg, "stderr (tail):\n...\n49\n50") {
		t.Errorf("WaitLine past its deadline failed with %q", msg)
	}
	msg = fatal(t, func(tb testing.TB) { sh(tb, "exec sleep 60").Wait(100 * time.Millisecond) })
	if !strings.Contains(msg, "did not exit within 100ms") {
		t.Errorf("Wait past its deadline failed with %q", msg)
	}
}

func TestTail(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"a\nb\nc\n", 2, "...\nb\nc"},
		{"a\nb\n", 2, "a\nb"},
		{"", 3, ""},
	} {
		if got := proctest.Tail(tc.s, tc.n); got != tc.want {
			t.Errorf("Tail(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}
