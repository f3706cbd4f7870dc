package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/at-technology/atqueue/wire"
)

// fakeRegistry answers as a registry would, from a list of entries; it counts the
// requests. With noDirectory it plays python -m at_queue, which never answers the
// directory request; with fail set it answers nothing at all.
type fakeRegistry struct {
	mu          sync.Mutex
	entries     []wire.DirectoryEntry
	noDirectory bool
	fail        error
	dirCalls    int
	allCalls    int
}

func (f *fakeRegistry) Directory(ctx context.Context) ([]wire.DirectoryEntry, error) {
	f.mu.Lock()
	f.dirCalls++
	no, fail := f.noDirectory, f.fail
	out := append([]wire.DirectoryEntry(nil), f.entries...)
	f.mu.Unlock()
	if fail != nil {
		return nil, fail
	}
	if no {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return out, nil
}

func (f *fakeRegistry) InspectAll(context.Context) (json.RawMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.allCalls++
	if f.fail != nil {
		return nil, f.fail
	}
	var b strings.Builder
	b.WriteString("{")
	for i, e := range f.entries {
		if i > 0 {
			b.WriteString(", ")
		}
		broker := fmt.Sprintf(`{"session_id": %q}`, e.SessionID)
		if !e.Alive && !f.noDirectory {
			broker = fmt.Sprintf(`{"session_id": %q, "alive": false}`, e.SessionID)
		}
		methods := make([]string, e.Methods)
		for m := range methods {
			methods[m] = fmt.Sprintf(`"m%d": {"name": "m%d", "description": null, "inputs": {}, "output": {"schema": null, "strict_validation": false, "description": null}}`, m, m)
		}
		fmt.Fprintf(&b, `%q: {"broker": %s, "component": {"name": %q, "description": "the %s", "methods": {%s}}}`,
			e.Name, broker, e.Name, e.Name, strings.Join(methods, ", "))
	}
	b.WriteString("}")
	return json.RawMessage(b.String()), nil
}

func (f *fakeRegistry) set(fn func(f *fakeRegistry)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeRegistry) calls() (dir, all int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dirCalls, f.allCalls
}

var errDown = errors.New("registry down")

func entry(name string, alive bool, methods int) wire.DirectoryEntry {
	return wire.DirectoryEntry{Name: name, SessionID: "sid-" + name, Alive: alive, Consumers: map[bool]int{true: 1, false: 0}[alive],
		Methods: methods, RegisteredAt: "2026-12-01T10:00:00Z", LastAlive: "2026-12-01T10:05:00Z", Go: true}
}

// eventually waits until cond holds, checking it every few milliseconds, and fails the
// test after wait.
func eventually(t *testing.T, wait time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", wait, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
