package component

import (
	"container/list"
	"sync"
)

// seen remembers the answers of recent requests by (sender, message_id), so that a
// request delivered again (after a reconnect or a crash before its acknowledgement) is
// not executed twice: its stored answer is sent again instead. A request still running
// is recorded with a nil answer; its duplicate is dropped because the first one will be
// answered. The window is bounded; the oldest entries are forgotten first.
type seen struct {
	mu    sync.Mutex
	max   int
	order *list.List // of key, oldest first
	byKey map[key]*seenEntry
}

type key struct{ sender, id string }

type seenEntry struct {
	elem   *list.Element
	answer []byte // nil while the request runs
}

func newSeen(max int) *seen {
	return &seen{max: max, order: list.New(), byKey: make(map[key]*seenEntry)}
}

// begin records a request. It returns (nil, true) for a new request, (answer, false) for
// one answered already, and (nil, false) for one still running.
func (s *seen) begin(sender, id string) ([]byte, bool) {
	if s == nil || s.max <= 0 {
		return nil, true
	}
	k := key{sender, id}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.byKey[k]; ok {
		return e.answer, false
	}
	s.byKey[k] = &seenEntry{elem: s.order.PushBack(k)}
	for s.order.Len() > s.max {
		old := s.order.Remove(s.order.Front()).(key)
		delete(s.byKey, old)
	}
	return nil, true
}

// done stores the answer body of a request.
func (s *seen) done(sender, id string, answer []byte) {
	if s == nil || s.max <= 0 {
		return
	}
	s.mu.Lock()
	if e, ok := s.byKey[key{sender, id}]; ok {
		e.answer = answer
	}
	s.mu.Unlock()
}
