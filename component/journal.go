package component

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/asynkron/protoactor-go/actor"
)

// journal keeps the dedupe window on disk: a line when a request starts ("b") and one
// with its answer ("a"). A process started again reads it back, so a request redelivered
// after a crash is answered from it instead of run twice, and one that was started
// maxAttempts times without ever being answered (it kills the process) is refused. Lines
// are written by a goroutine the component owns, never by its mailbox: the actor queues
// them and goes on; the writer writes what has queued up in one write and reports back
// (journaled) for each line that something waits on. They survive the process being
// killed, not the machine. The file is rewritten, atomically, from a snapshot of the
// window when it grows past a few windows.
type journal struct {
	path  string
	max   int
	root  *actor.RootContext // to report back to the actor
	lines int                // written or queued since the last rewrite; the actor's count

	mu     sync.Mutex
	ops    []journalOp
	signal chan struct{} // size 1: ops has grown
	closed bool
	done   chan struct{} // closed when the writer has exited
	err    error         // the writer's last error, read after done
	f      *os.File      // the writer's alone once it runs
}

type journalLine struct {
	Sender string `json:"s"`
	ID     string `json:"i"`
	Begin  bool   `json:"b,omitempty"`
	Answer string `json:"a,omitempty"`
}

// journalOp is one line to write (with who to tell once it is written, if anyone), or a
// rewrite of the whole file.
type journalOp struct {
	line    journalLine
	notify  *actor.PID
	next    any
	rewrite []journalLine // non-nil: replace the file with these lines
}

// journaled tells the actor that a line it waits on is written.
type journaled struct {
	next any
	err  error
}

// maxAttempts bounds how often a request that kills its process is started again.
const maxAttempts = 3

// openJournal loads path into s, rewrites it compactly and starts its writer, which
// reports back through root.
func openJournal(path string, s *seen, root *actor.RootContext) (*journal, error) {
	j := &journal{path: path, max: s.max, root: root, signal: make(chan struct{}, 1), done: make(chan struct{})}
	s.counting = true
	if err := j.load(s); err != nil {
		return nil, err
	}
	if err := j.rewrite(s.lines()); err != nil {
		return nil, err
	}
	j.lines = 0
	go j.run()
	return j, nil
}

func (j *journal) load(s *seen) error {
	f, err := os.Open(j.path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		var l journalLine
		if json.Unmarshal(sc.Bytes(), &l) != nil {
			continue // a line cut short by a crash
		}
		k := key{l.Sender, l.ID}
		switch {
		case l.Answer != "":
			s.remember(k, []byte(l.Answer))
			delete(s.attempts, k)
		case l.Begin:
			s.attempts[k]++
		}
	}
	return sc.Err()
}

// begin queues a request's start; next is handed back (journaled) once it is written.
func (j *journal) begin(self *actor.PID, sender, id string, next any) {
	j.push(journalOp{line: journalLine{Sender: sender, ID: id, Begin: true}, notify: self, next: next})
}

// answer queues a request's answer; next is handed back once it is written.
func (j *journal) answer(self *actor.PID, sender, id string, body []byte, next any) {
	j.push(journalOp{line: journalLine{Sender: sender, ID: id, Answer: string(body)}, notify: self, next: next})
}

// compact queues a rewrite of the file from the window's lines when it has grown enough;
// the actor calls it after queuing lines.
func (j *journal) compact(s *seen) {
	if j.lines <= 4*j.max+16 {
		return
	}
	j.lines = 0
	j.push(journalOp{rewrite: s.lines()})
}

func (j *journal) push(op journalOp) {
	if op.rewrite == nil {
		j.lines++
	}
	j.mu.Lock()
	j.ops = append(j.ops, op)
	j.mu.Unlock()
	select {
	case j.signal <- struct{}{}:
	default:
	}
}

// run is the writer goroutine.
func (j *journal) run() {
	defer close(j.done)
	var buf bytes.Buffer
	for {
		j.mu.Lock()
		ops, closed := j.ops, j.closed
		j.ops = nil
		j.mu.Unlock()
		if len(ops) == 0 {
			if closed {
				return
			}
			<-j.signal
			continue
		}
		buf.Reset()
		flush := func() error {
			if buf.Len() == 0 {
				return nil
			}
			_, err := j.f.Write(buf.Bytes())
			buf.Reset()
			if err != nil {
				return fmt.Errorf("dedupe journal %s: %w", j.path, err)
			}
			return nil
		}
		var err error
		for _, op := range ops {
			if op.rewrite != nil {
				if err = flush(); err == nil {
					err = j.rewrite(op.rewrite)
				}
				continue
			}
			b, _ := json.Marshal(op.line)
			buf.Write(b)
			buf.WriteByte('\n')
		}
		if ferr := flush(); ferr != nil {
			err = ferr
		}
		if err != nil {
			j.err = err
		}
		for _, op := range ops {
			if op.notify != nil {
				j.root.Send(op.notify, &journaled{next: op.next, err: err})
			}
		}
	}
}

// rewrite replaces the file with lines.
func (j *journal) rewrite(lines []journalLine) error {
	tmp, err := os.CreateTemp(filepath.Dir(j.path), ".dedupe-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	enc := json.NewEncoder(w)
	for _, l := range lines {
		_ = enc.Encode(l)
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), j.path); err != nil {
		return err
	}
	if j.f != nil {
		j.f.Close()
	}
	j.f, err = os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0o644)
	return err
}

// close writes what is queued, stops the writer, waits for it and closes the file. It
// may be called on a nil journal.
func (j *journal) close() error {
	if j == nil {
		return nil
	}
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		<-j.done
		return nil
	}
	j.closed = true
	j.mu.Unlock()
	select {
	case j.signal <- struct{}{}:
	default:
	}
	<-j.done
	if j.f != nil {
		if err := j.f.Close(); err != nil && j.err == nil {
			j.err = err
		}
	}
	return j.err
}
