package proctest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Proc is one program started by a test with Start. Its stdout is read line by line as
// it comes; its stderr is kept whole.
type Proc struct {
	t         testing.TB
	name      string
	cmd       *exec.Cmd
	tailLines int // how much of stderr a failure shows; 0: all of it

	mu      sync.Mutex
	lines   []string
	stderr  bytes.Buffer
	changed chan struct{} // size 1: a stdout line or stderr output arrived

	done chan struct{} // closed once the process has exited and its output is read
	code int           // the exit status, set before done is closed
}

// Option changes how Start starts a process.
type Option func(*options)

type options struct {
	unset     []string // names removed from the environment
	set       []string // NAME=value added to it
	tailLines int
}

// Unset removes the named variables from the process's environment.
func Unset(names ...string) Option {
	return func(o *options) { o.unset = append(o.unset, names...) }
}

// Setenv sets the variable name to value in the process's environment, in place of the
// test's.
func Setenv(name, value string) Option {
	return func(o *options) {
		o.unset = append(o.unset, name)
		o.set = append(o.set, name+"="+value)
	}
}

// StderrTail makes failures and the cleanup show only the last n lines of the process's
// stderr instead of all of it.
func StderrTail(n int) Option {
	return func(o *options) { o.tailLines = n }
}

// Start runs the program at path with args and the test's environment as opts change it.
// It fails the test when the program cannot be started. t.Cleanup kills the process if it
// is still running then, and waits for it; when the test has failed, it logs what the
// process printed.
func Start(t testing.TB, path string, args []string, opts ...Option) *Proc {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	p := &Proc{
		t: t, name: strings.Join(append([]string{filepath.Base(path)}, args...), " "), tailLines: o.tailLines,
		changed: make(chan struct{}, 1), done: make(chan struct{}),
	}
	p.cmd = exec.Command(path, args...)
	p.cmd.Env = []string{}
	for _, kv := range os.Environ() {
		if !hasName(kv, o.unset) {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Env = append(p.cmd.Env, o.set...)
	p.cmd.Stderr = stderrWriter{p}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", p.name, err)
	}
	go p.read(stdout)
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill() // our own child, by its pid
			<-p.done
			if t.Failed() {
				t.Logf("killed %s\nstdout:\n%s\n%s", p.name, p.Stdout(), p.stderrForLog())
			}
		}
	})
	return p
}

// hasName tells whether the environment entry kv (NAME=value) sets one of names.
func hasName(kv string, names []string) bool {
	name, _, _ := strings.Cut(kv, "=")
	for _, n := range names {
		if name == n {
			return true
		}
	}
	return false
}

// read is the process's goroutine: it collects stdout until the pipe closes, then reaps
// the process and closes done.
func (p *Proc) read(stdout io.Reader) {
	defer close(p.done)
	var partial []byte
	buf := make([]byte, 4096)
	for {
		n, err := stdout.Read(buf)
		partial = append(partial, buf[:n]...)
		for {
			i := bytes.IndexByte(partial, '\n')
			if i < 0 {
				break
			}
			p.addLine(string(partial[:i]))
			partial = partial[i+1:]
		}
		if err != nil {
			break
		}
	}
	if len(partial) > 0 {
		p.addLine(string(partial))
	}
	_ = p.cmd.Wait()
	p.code = p.cmd.ProcessState.ExitCode()
}

func (p *Proc) addLine(s string) {
	p.mu.Lock()
	p.lines = append(p.lines, s)
	p.mu.Unlock()
	p.notify()
}

func (p *Proc) notify() {
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// stderrWriter collects the process's stderr and wakes the waiters.
type stderrWriter struct{ p *Proc }

func (w stderrWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	n, err := w.p.stderr.Write(b)
	w.p.mu.Unlock()
	w.p.notify()
	return n, err
}

// Name is the program's file name and its arguments.
func (p *Proc) Name() string { return p.name }

// Pid is the process's id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Stdout is what the process has printed on stdout so far, its lines joined by "\n".
func (p *Proc) Stdout() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// Stderr is what the process has written on stderr so far.
func (p *Proc) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// stderrForLog is stderr as failures show it: whole, or its tail after StderrTail.
func (p *Proc) stderrForLog() string {
	if p.tailLines > 0 {
		return "stderr (tail):\n" + Tail(p.Stderr(), p.tailLines)
	}
	return "stderr:\n" + p.Stderr()
}

// Exited tells whether the process has ended (and its output has been read).
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// WaitLine waits until a stdout line contains substr and returns it; it fails the test
// when the process exits first or within does not suffice.
func (p *Proc) WaitLine(substr string, within time.Duration) string {
	p.t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	seen := 0
	for {
		p.mu.Lock()
		lines := p.lines[seen:]
		seen = len(p.lines)
		p.mu.Unlock()
		for _, l := range lines {
			if strings.Contains(l, substr) {
				return l
			}
		}
		select {
		case <-p.changed:
		case <-p.done:
			p.mu.Lock()
			more := len(p.lines) > seen
			p.mu.Unlock()
			if !more {
				p.t.Fatalf("%s exited with status %d before printing %q\nstdout:\n%s\n%s", p.name, p.code, substr, p.Stdout(), p.stderrForLog())
			}
		case <-deadline.C:
			p.t.Fatalf("%s printed no line with %q within %v\nstdout:\n%s\n%s", p.name, substr, within, p.Stdout(), p.stderrForLog())
		}
	}
}

// WaitStderr waits until stderr holds substr more than after times; it fails the test
// when the process exits first or within does not suffice.
func (p *Proc) WaitStderr(substr string, after int, within time.Duration) {
	p.t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for strings.Count(p.Stderr(), substr) <= after {
		select {
		case <-p.changed:
		case <-p.done:
			if strings.Count(p.Stderr(), substr) <= after {
				p.t.Fatalf("%s exited with status %d before logging %q\n%s", p.name, p.code, substr, p.stderrForLog())
			}
		case <-deadline.C:
			p.t.Fatalf("%s logged no new %q within %v\n%s", p.name, substr, within, p.stderrForLog())
		}
	}
}

// Wait waits for the process to exit and returns its status; it fails the test when that
// takes longer than within.
func (p *Proc) Wait(within time.Duration) int {
	p.t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	select {
	case <-p.done:
		return p.code
	case <-deadline.C:
		p.t.Fatalf("%s did not exit within %v\nstdout:\n%s\n%s", p.name, within, p.Stdout(), p.stderrForLog())
		return 0
	}
}

// Signal sends sig to the process (by its pid); it fails the test when that fails, also
// when the process has already exited. SIGSTOP and SIGCONT freeze and thaw it.
func (p *Proc) Signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signalling %s with %v: %v", p.name, sig, err)
	}
}

// Stop sends sig and returns the exit status; a process that has already exited is not
// an error. It fails the test when the process does not exit within the given time.
func (p *Proc) Stop(sig os.Signal, within time.Duration) int {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) && !p.Exited() {
		p.t.Fatalf("signalling %s with %v: %v", p.name, sig, err)
	}
	return p.Wait(within)
}

// Kill ends the process with SIGKILL, as a crash would, and waits until it is gone; it
// fails the test when that takes longer than within.
func (p *Proc) Kill(within time.Duration) {
	p.t.Helper()
	p.Stop(os.Kill, within)
}

// Tail is the last n lines of s, after a "..." line when any were left out.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}
