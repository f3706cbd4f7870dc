package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrProcess wraps the failures of the programs the benchmarks run (atq registry, atqhost).
var ErrProcess = errors.New("benchmark process failed")

// procStartTimeout bounds the start of a program until it says it is ready.
const procStartTimeout = 60 * time.Second

// RegistryProc is `atq registry` running as a process of its own, so that its memory and
// CPU are its alone: with its directory in a state file (as deployed), its debug HTTP API
// on a free port for /metrics, and no pidfile. Stop it.
type RegistryProc struct {
	proc
	api    string       // http://host:port of its debug HTTP API
	client *http.Client // keeps no connection open between requests
}

// StartRegistryProc starts the registry program atq on the virtual host at url, keeping
// its directory in the file state, with flags added to its command line, and returns once
// it serves.
func StartRegistryProc(ctx context.Context, atq, url, state string, flags ...string) (*RegistryProc, error) {
	r := &RegistryProc{client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}
	const apiLine, readyLine = "debug HTTP API listening on ", "registry listening on "
	args := append([]string{"registry", "-u", url, "--state", state, "--pidfile", "", "-dp", "0", "--log-level", "warn"}, flags...)
	err := r.start(ctx, "atq registry", atq, args, nil,
		func(line string) bool {
			if rest, ok := strings.CutPrefix(line, apiLine); ok {
				r.api, _, _ = strings.Cut(rest, " ")
			}
			return strings.HasPrefix(line, readyLine)
		})
	if err != nil {
		return nil, err
	}
	if r.api == "" {
		return nil, errors.Join(fmt.Errorf("%w: atq registry did not say where its HTTP API listens", ErrProcess), r.Stop())
	}
	return r, nil
}

// RegistryMemory is what the registry process holds.
type RegistryMemory struct {
	RSS       int64 // resident set size (/proc/<pid>/status)
	HeapAlloc int64 // Go heap allocated, live and not yet collected (go_memstats_heap_alloc_bytes)
	// HeapLive estimates the heap the last GC found live: go_memstats_next_gc_bytes, the
	// GC's goal, is that times 1 + GOGC/100 (plus stacks and globals, which are small).
	HeapLive   int64
	Components int // atq_registry_components: its directory, its own inspector included
	Alive      int // atq_registry_components_alive
}

// Memory reads the registry's memory and directory size.
func (r *RegistryProc) Memory(ctx context.Context) (RegistryMemory, error) {
	var m RegistryMemory
	rss, err := RSS(r.Pid())
	if err != nil {
		return m, err
	}
	v, err := r.Metrics(ctx, "go_memstats_heap_alloc_bytes", "go_memstats_next_gc_bytes", "go_gc_gogc_percent",
		"atq_registry_components", "atq_registry_components_alive")
	if err != nil {
		return m, err
	}
	gogc := v["go_gc_gogc_percent"]
	if gogc <= 0 {
		gogc = 100
	}
	m.RSS, m.HeapAlloc = rss, int64(v["go_memstats_heap_alloc_bytes"])
	m.HeapLive = int64(v["go_memstats_next_gc_bytes"] / (1 + gogc/100))
	m.Components, m.Alive = int(v["atq_registry_components"]), int(v["atq_registry_components_alive"])
	return m, nil
}

// AwaitComponents waits until the registry's directory holds at least n components (its
// gauges are updated once per liveness round, every second by default), or within
// passes; it returns what Memory read last.
func (r *RegistryProc) AwaitComponents(ctx context.Context, n int, within time.Duration) (RegistryMemory, error) {
	deadline := time.Now().Add(within)
	for {
		m, err := r.Memory(ctx)
		if err != nil || m.Components >= n || time.Now().After(deadline) {
			return m, err
		}
		if err := sleep(ctx, pollEvery); err != nil {
			return m, err
		}
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Series counts the lines of the registry's /metrics that start with prefix: the series
// of a labelled metric, such as `atq_queue_messages{component="Burst`.
func (r *RegistryProc) Series(ctx context.Context, prefix string) (int, error) {
	n := 0
	err := r.scrape(ctx, func(line string) {
		if strings.HasPrefix(line, prefix) {
			n++
		}
	})
	return n, err
}

// Metrics reads the named unlabelled series from the registry's /metrics; a name it does
// not serve is an error.
func (r *RegistryProc) Metrics(ctx context.Context, names ...string) (map[string]float64, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	err := r.scrape(ctx, func(line string) {
		name, value, ok := strings.Cut(line, " ")
		if !ok || !want[name] {
			return
		}
		if x, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
			out[name] = x
		}
	})
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("GET /metrics: no %s", n)
		}
	}
	return out, nil
}

// scrape hands each line of GET /metrics to line.
func (r *RegistryProc) scrape(ctx context.Context, line func(string)) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.api+"/metrics", nil)
	if err != nil {
		return err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line(sc.Text())
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("GET /metrics: %w", err)
	}
	return nil
}

// proc is a program the benchmark runs: its stdout is read line by line (by the
// goroutine that also waits for it), the tail of its stderr kept for errors.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string   // stdout lines after the ready line; the reader blocks until they are taken
	quit   chan struct{} // closed when the program is told to stop: its lines are dropped
	done   chan struct{} // closed once the program has exited and its output is read
	stderr tail
	err    error // of Wait; read after done
	once   sync.Once
}

// start runs path with args, hands each stdout line to ready until it returns true, and
// returns then, or with an error when the program exits first, ctx ends or
// procStartTimeout passes (the program is killed).
func (p *proc) start(ctx context.Context, name, path string, args, env []string, ready func(string) bool) error {
	p.name = name
	p.cmd = exec.Command(path, args...)
	if env != nil {
		p.cmd.Env = env
	}
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return err
	}
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("%w: starting %s: %w", ErrProcess, name, err)
	}
	p.lines, p.quit, p.done = make(chan string), make(chan struct{}), make(chan struct{})
	isReady := make(chan struct{})
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		waiting := true
		for sc.Scan() {
			if waiting {
				if ready(sc.Text()) {
					waiting = false
					close(isReady)
				}
				continue
			}
			select {
			case p.lines <- sc.Text():
			case <-p.quit:
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		p.err = p.cmd.Wait()
	}()
	t := time.NewTimer(procStartTimeout)
	defer t.Stop()
	select {
	case <-isReady:
		return nil
	case <-p.done:
		return fmt.Errorf("%w: %s exited before it was ready: %v\n%s", ErrProcess, name, p.err, p.stderr.String())
	case <-ctx.Done():
		p.Kill()
		return ctx.Err()
	case <-t.C:
		p.Kill()
		return fmt.Errorf("%w: %s was not ready within %v\n%s", ErrProcess, name, procStartTimeout, p.stderr.String())
	}
}

// Pid is the process id.
func (p *proc) Pid() int { return p.cmd.Process.Pid }

// next waits for the program's next stdout line.
func (p *proc) next(ctx context.Context) (string, error) {
	select {
	case l := <-p.lines:
		return l, nil
	case <-p.done:
		return "", fmt.Errorf("%w: %s exited: %v\n%s", ErrProcess, p.name, p.err, p.stderr.String())
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Stop asks the program to stop (SIGTERM) and waits for it, killing it after 30s. Later
// calls, and calls after Kill, only wait.
func (p *proc) Stop() error { return p.signal(syscall.SIGTERM, 30*time.Second) }

// Kill kills the program (SIGKILL), as a crash or a power cut would, and waits for it.
func (p *proc) Kill() { _ = p.signal(syscall.SIGKILL, 0) }

func (p *proc) signal(sig syscall.Signal, grace time.Duration) error {
	p.once.Do(func() {
		close(p.quit)
		_ = p.stdin.Close()
		_ = p.cmd.Process.Signal(sig)
	})
	if grace > 0 {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-p.done:
		case <-t.C:
			_ = p.cmd.Process.Kill()
		}
	}
	<-p.done
	if sig != syscall.SIGKILL && p.err != nil {
		return fmt.Errorf("%w: %s: %v\n%s", ErrProcess, p.name, p.err, p.stderr.String())
	}
	return nil
}

// tail keeps the last 8 KiB written to it.
type tail struct {
	mu sync.Mutex
	b  []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, b...)
	if n := len(t.b) - 8<<10; n > 0 {
		t.b = append(t.b[:0], t.b[n:]...)
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
