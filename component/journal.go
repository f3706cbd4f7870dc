package component

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// journal keeps the dedupe window on disk: a line when a request starts ("b") and one
// with its answer ("a"). A process started again reads it back, so a request redelivered
// after a crash is answered from it instead of run twice, and one that was started
// maxAttempts times without ever being answered (it kills the process) is refused. Lines
// are appended with one write each (they survive the process being killed, not the
// machine); the file is rewritten, atomically, when it grows past a few windows.
type journal struct {
	path  string
	f     *os.File
	lines int
	max   int
}

type journalLine struct {
	Sender string `json:"s"`
	ID     string `json:"i"`
	Begin  bool   `json:"b,omitempty"`
	Answer string `json:"a,omitempty"`
}

// maxAttempts bounds how often a request that kills its process is started again.
const maxAttempts = 3

// openJournal loads path into s and opens it for appending.
func openJournal(path string, s *seen) (*journal, error) {
	j := &journal{path: path, max: s.max}
	if err := j.load(s); err != nil {
		return nil, err
	}
	if err := j.rewrite(s); err != nil {
		return nil, err
	}
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

// rewrite replaces the file with the window's answers and pending attempts.
func (j *journal) rewrite(s *seen) error {
	tmp, err := os.CreateTemp(filepath.Dir(j.path), ".dedupe-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	n := 0
	enc := json.NewEncoder(w)
	for e := s.order.Front(); e != nil; e = e.Next() {
		k := e.Value.(key)
		if a := s.byKey[k].answer; a != nil {
			_ = enc.Encode(journalLine{Sender: k.sender, ID: k.id, Answer: string(a)})
			n++
		}
	}
	for k, c := range s.attempts {
		for i := 0; i < c; i++ {
			_ = enc.Encode(journalLine{Sender: k.sender, ID: k.id, Begin: true})
			n++
		}
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
	j.lines = n
	return err
}

// append writes one line; the caller holds s.mu.
func (j *journal) append(s *seen, l journalLine) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("dedupe journal %s: %w", j.path, err)
	}
	j.lines++
	if j.lines > 4*j.max+16 {
		return j.rewrite(s)
	}
	return nil
}

func (j *journal) close() error {
	if j == nil || j.f == nil {
		return nil
	}
	return j.f.Close()
}
