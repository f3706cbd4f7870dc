package faults_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Bounds on the programs, generous for a loaded 2-core machine running the race detector.
const (
	ready   = 20 * time.Second // from start to the "registered"/"listening" line
	stopped = 15 * time.Second // from a signal to the exit
)

// proc is one program started by a test. Its stdout is read line by line as it comes;
// stderr is kept whole. t.Cleanup kills it if the test did not stop it.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd

	mu      sync.Mutex
	lines   []string
	stderr  bytes.Buffer
	changed chan struct{} // size 1: a stdout line or stderr output arrived

	done chan struct{} // closed once the process has exited and its output is read
	code int
}

// start runs the built program bin with args. $AMQP_URL is removed from its environment,
// so every broker it uses is named on its command line, and $XDG_STATE_HOME points into
// the test's temporary folder.
func start(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: bin + " " + strings.Join(args, " "), changed: make(chan struct{}, 1), done: make(chan struct{})}
	p.cmd = exec.Command(filepath.Join(binDir, bin), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AMQP_URL=") && !strings.HasPrefix(kv, "XDG_STATE_HOME=") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Env = append(p.cmd.Env, "XDG_STATE_HOME="+t.TempDir())
	p.cmd.Stderr = lockedWriter{&p.mu, &p.stderr, p.changed}
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
				t.Logf("killed %s\nstdout:\n%s\nstderr (tail):\n%s", p.name, p.stdout(), tail(p.stderrText(), 40))
			}
		}
	})
	return p
}

func (p *proc) read(stdout io.Reader) {
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

func (p *proc) addLine(s string) {
	p.mu.Lock()
	p.lines = append(p.lines, s)
	p.mu.Unlock()
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

func (p *proc) stdout() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

func (p *proc) stderrText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// exited tells whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitLine waits until a stdout line contains substr and returns it; it fails the test
// when the process exits first or within does not suffice.
func (p *proc) waitLine(substr string, within time.Duration) string {
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
				p.t.Fatalf("%s exited with status %d before printing %q\nstdout:\n%s\nstderr (tail):\n%s", p.name, p.code, substr, p.stdout(), tail(p.stderrText(), 40))
			}
		case <-deadline.C:
			p.t.Fatalf("%s printed no line with %q within %v\nstdout:\n%s\nstderr (tail):\n%s", p.name, substr, within, p.stdout(), tail(p.stderrText(), 40))
		}
	}
}

// waitStderr waits until stderr holds substr more than after times; it fails the test
// when the process exits first or within does not suffice.
func (p *proc) waitStderr(substr string, after int, within time.Duration) {
	p.t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for strings.Count(p.stderrText(), substr) <= after {
		select {
		case <-p.changed:
		case <-p.done:
			if strings.Count(p.stderrText(), substr) <= after {
				p.t.Fatalf("%s exited with status %d before logging %q\nstderr (tail):\n%s", p.name, p.code, substr, tail(p.stderrText(), 40))
			}
		case <-deadline.C:
			p.t.Fatalf("%s logged no new %q within %v\nstderr (tail):\n%s", p.name, substr, within, tail(p.stderrText(), 40))
		}
	}
}

// wait waits for the process to exit and returns its status; it fails the test when
// that takes longer than within.
func (p *proc) wait(within time.Duration) int {
	p.t.Helper()
	t := time.NewTimer(within)
	defer t.Stop()
	select {
	case <-p.done:
		return p.code
	case <-t.C:
		p.t.Fatalf("%s did not exit within %v\nstdout:\n%s\nstderr (tail):\n%s", p.name, within, p.stdout(), tail(p.stderrText(), 40))
		return 0
	}
}

// kill ends the process with SIGKILL, as a crash would, and waits until it is gone.
func (p *proc) kill() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !p.exited() {
		p.t.Fatalf("killing %s: %v", p.name, err)
	}
	p.wait(stopped)
}

// freeze stops the process (SIGSTOP) until thaw; it keeps its connections but answers
// nothing.
func (p *proc) freeze() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		p.t.Fatalf("freezing %s: %v", p.name, err)
	}
}

// thaw lets a frozen process run again (SIGCONT).
func (p *proc) thaw() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		p.t.Fatalf("thawing %s: %v", p.name, err)
	}
}

// stop sends SIGTERM and returns the exit status; the test fails when the process does
// not exit in time.
func (p *proc) stop() int {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !p.exited() {
		p.t.Fatalf("signalling %s: %v", p.name, err)
	}
	return p.wait(stopped)
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// lockedWriter collects stderr and signals changed.
type lockedWriter struct {
	mu      *sync.Mutex
	b       *bytes.Buffer
	changed chan struct{}
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	n, err := w.b.Write(b)
	w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
	return n, err
}
