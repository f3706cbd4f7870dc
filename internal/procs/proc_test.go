package procs_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// proc is one program started by a test. Its stdout is read line by line as it comes;
// stderr is kept whole. t.Cleanup kills it if the test did not wait for it.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd

	mu      sync.Mutex
	lines   []string
	stderr  bytes.Buffer
	changed chan struct{} // size 1: a line arrived

	done chan struct{} // closed once the process has exited and its output is read
	code int
}

// start runs the built program bin with args. $AMQP_URL is removed from its environment,
// so every broker it uses is named on its command line.
func start(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: bin + " " + strings.Join(args, " "), changed: make(chan struct{}, 1), done: make(chan struct{})}
	p.cmd = exec.Command(filepath.Join(binDir, bin), args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AMQP_URL=") && !strings.HasPrefix(kv, "XDG_STATE_HOME=") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	// A registry keeps its directory under $XDG_STATE_HOME; keep the test's in its temp dir.
	p.cmd.Env = append(p.cmd.Env, "XDG_STATE_HOME="+t.TempDir())
	p.cmd.Stderr = lockedWriter{&p.mu, &p.stderr}
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
			t.Logf("killed %s\nstdout:\n%s\nstderr:\n%s", p.name, p.stdout(), p.stderrText())
		}
	})
	return p
}

func (p *proc) read(stdout interface{ Read([]byte) (int, error) }) {
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
				p.t.Fatalf("%s exited with status %d before printing %q\nstdout:\n%s\nstderr:\n%s", p.name, p.code, substr, p.stdout(), p.stderrText())
			}
		case <-deadline.C:
			p.t.Fatalf("%s printed no line with %q within %v\nstdout:\n%s\nstderr:\n%s", p.name, substr, within, p.stdout(), p.stderrText())
		}
	}
}

// wait waits for the process to exit and returns its status; it fails the test when
// that takes longer than within.
func (p *proc) wait(within time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.code
	case <-time.After(within):
		p.t.Fatalf("%s did not exit within %v\nstdout:\n%s\nstderr:\n%s", p.name, within, p.stdout(), p.stderrText())
		return 0
	}
}

// stop sends sig and requires exit status 0 within the given time.
func (p *proc) stop(sig os.Signal, within time.Duration) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signalling %s: %v", p.name, err)
	}
	t0 := time.Now()
	if code := p.wait(within); code != 0 {
		p.t.Fatalf("%s exited with status %d after %v, want 0\nstdout:\n%s\nstderr:\n%s", p.name, code, sig, p.stdout(), p.stderrText())
	}
	p.t.Logf("%s: exit 0, %v after %v", p.name, time.Since(t0).Round(time.Millisecond), sig)
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(b)
}
