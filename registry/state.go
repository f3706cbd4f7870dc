package registry

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/wire"
)

// WithStateFile keeps the directory in path, rewritten atomically (write a temporary file
// in the same folder, fsync, rename) after changes, and loaded when the registry starts
// serving: a restarted registry resumes consuming every known component's queue, so
// Python components, which never register again, keep working (spec quirk 6). The file is
// read and written by a goroutine the registry owns, never by its mailbox, and writes
// coalesce: however many changes come while one write runs, or in the rest after it (see
// saveRest), the next write holds them all. The first change after a quiet spell is
// written at once.
//
// A local file was chosen over state kept in RabbitMQ: it needs no broker feature beyond
// the protocol's own queues, survives a broker restart (transient messages would not), and
// a person can read it.
func WithStateFile(path string) Option { return func(c *config) { c.stateFile = path } }

type savedEntry struct {
	Name        string          `json:"name"`
	SessionID   string          `json:"session_id"`
	Description json.RawMessage `json:"description"`
	Direct      bool            `json:"direct,omitempty"` // it takes direct calls

	// line is the entry as encodeState writes it, when encoded already (the registry
	// keeps each component's line until it registers again: a snapshot of 1,000
	// components copies them instead of encoding them again). Never changed once set.
	line []byte
}

func loadState(path string) ([]savedEntry, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []savedEntry
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("registry state %s: %w", path, err)
	}
	return out, nil
}

// encodeState appends the directory to buf[:0], one component to a line. The
// descriptions are kept compact JSON already (normalised at registration, checked when
// loaded), so they are copied as they are rather than parsed and indented again. A burst
// of registrations writes the growing file many times: the buffer is sized once for the
// whole file, and the store hands back the previous one, so a snapshot costs one copy of
// the descriptions rather than a chain of doublings.
func encodeState(buf []byte, entries []savedEntry) []byte {
	size := 4
	for _, e := range entries {
		if e.line != nil {
			size += len(e.line) + 4
		} else {
			size += len(e.Name) + len(e.SessionID) + len(e.Description) + 64
		}
	}
	b := slices.Grow(buf[:0], size)
	b = append(b, "[\n"...)
	for i, e := range entries {
		b = append(b, "  "...)
		if e.line != nil {
			b = append(b, e.line...)
		} else {
			b = appendEntry(b, e)
		}
		if i < len(entries)-1 {
			b = append(b, ',')
		}
		b = append(b, '\n')
	}
	return append(b, "]\n"...)
}

// appendEntry appends e as one object of the state file.
func appendEntry(b []byte, e savedEntry) []byte {
	desc := e.Description
	if len(desc) == 0 {
		desc = json.RawMessage("null")
	}
	b = append(b, `{"name": `...)
	b = wire.AppendString(b, e.Name)
	b = append(b, `, "session_id": `...)
	b = wire.AppendString(b, e.SessionID)
	b = append(b, `, "description": `...)
	b = append(b, desc...)
	if e.Direct {
		b = append(b, `, "direct": true`...)
	}
	return append(b, '}')
}

// saveState writes entries to path through a temporary file, synced and renamed over it,
// encoding them into buf; it returns the buffer for the next save.
func saveState(path string, entries []savedEntry, buf []byte) ([]byte, error) {
	b := encodeState(buf, entries)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".registry-state-*")
	if err != nil {
		return b, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return b, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return b, err
	}
	if err := tmp.Close(); err != nil {
		return b, err
	}
	return b, os.Rename(tmp.Name(), path)
}

// store is the goroutine that reads and writes the state file for the registry actor. It
// reports back by message: *stateLoaded after a load; write errors are logged.
type store struct {
	path string
	root *actor.RootContext
	to   *actor.PID
	log  *slog.Logger

	mu     sync.Mutex
	load   bool         // a load is asked
	next   []savedEntry // the latest snapshot to write; nil when none is due
	due    bool
	closed bool
	buf    []byte        // the last file's encoding, reused by the next (the goroutine's own)
	signal chan struct{} // size 1: there is work
	done   chan struct{} // closed when the goroutine has exited
}

// stateSaved tells the registry that a snapshot it handed over is written (or failed,
// which is logged): the next may come.
type stateSaved struct{}

// stateLoaded is the outcome of a load.
type stateLoaded struct {
	entries []savedEntry
	err     error
}

func newStore(path string, root *actor.RootContext, to *actor.PID, log *slog.Logger) *store {
	s := &store{path: path, root: root, to: to, log: log, signal: make(chan struct{}, 1), done: make(chan struct{})}
	go s.run()
	return s
}

func (s *store) wake() {
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// requestLoad asks for the file's directory.
func (s *store) requestLoad() {
	s.mu.Lock()
	s.load = true
	s.mu.Unlock()
	s.wake()
}

// save makes entries the next snapshot to write, replacing one not written yet.
func (s *store) save(entries []savedEntry) {
	s.mu.Lock()
	s.next, s.due = entries, true
	s.mu.Unlock()
	s.wake()
}

func (s *store) run() {
	defer close(s.done)
	for {
		s.mu.Lock()
		load, due, next, closed := s.load, s.due, s.next, s.closed
		s.load, s.due, s.next = false, false, nil
		s.mu.Unlock()
		if load {
			entries, err := loadState(s.path)
			s.root.Send(s.to, &stateLoaded{entries: entries, err: err})
		}
		if due {
			began := time.Now()
			var err error
			if s.buf, err = saveState(s.path, next, s.buf); err != nil {
				s.log.Error("cannot save the directory", "file", s.path, "err", err)
			}
			if !closed { // the registry has stopped once it closes the store
				s.rest(time.Since(began))
				s.root.Send(s.to, &stateSaved{})
			}
		}
		if load || due {
			continue
		}
		if closed {
			return
		}
		<-s.signal
	}
}

// Between two writes the store rests saveRest, or four times as long as the write took if
// that is longer (at most maxSaveRest): a burst of registrations is written a few times a
// second instead of back to back, each write holding the whole directory. Without the
// rest, the writes of a 1,000-component burst were a sixth of the registry's CPU, on a
// machine the burst saturates. What changes meanwhile waits, and is lost if the registry
// dies in that time, as it would be in the write under way: a Go component the restarted
// registry does not know registers again when its check finds that, a Python one does not
// (spec quirk 6).
const (
	saveRest    = 100 * time.Millisecond
	maxSaveRest = 2 * time.Second
)

// rest waits after a write that took took, unless something else comes: a load, the
// registry's last snapshot when it stops, or the close.
func (s *store) rest(took time.Duration) {
	t := time.NewTimer(min(max(saveRest, 4*took), maxSaveRest))
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return
		case <-s.signal:
			s.mu.Lock()
			more := s.load || s.due || s.closed
			s.mu.Unlock()
			if more { // the loop reads it all again
				return
			}
		}
	}
}

// close writes the snapshot still due, stops the goroutine and waits for it.
func (s *store) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.wake()
	<-s.done
}
