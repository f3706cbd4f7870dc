package component

import "container/list"

// seen remembers the answers of recent requests by (sender, message_id), so that a
// request delivered again (after a reconnect or a crash before its acknowledgement) is
// not executed twice: its stored answer is sent again instead. A request still running
// is recorded with a nil answer; its duplicate is dropped because the first one will be
// answered. The window is bounded; the oldest entries are forgotten first. It belongs to
// the component's actor, which alone touches it.
type seen struct {
	max   int
	order *list.List // of key, oldest first
	byKey map[key]*seenEntry
	// With a journal (WithDedupeFile) the window outlives the process; attempts counts
	// the starts of requests that never got an answer.
	counting bool
	attempts map[key]int
}

type key struct{ sender, id string }

type seenEntry struct {
	elem   *list.Element
	answer []byte // nil while the request runs
}

func newSeen(max int) *seen {
	return &seen{max: max, order: list.New(), byKey: make(map[key]*seenEntry), attempts: map[key]int{}}
}

// remember records an answered request.
func (s *seen) remember(k key, answer []byte) {
	if e, ok := s.byKey[k]; ok {
		e.answer = answer
		return
	}
	s.byKey[k] = &seenEntry{elem: s.order.PushBack(k), answer: answer}
	s.trim()
}

func (s *seen) trim() {
	for s.order.Len() > s.max {
		old := s.order.Remove(s.order.Front()).(key)
		delete(s.byKey, old)
	}
}

// begin records a request. It returns (nil, true, n) for a request to run, n being how
// often it was started before without an answer (by processes that died); (answer,
// false, 0) for one answered already; and (nil, false, 0) for one still running.
func (s *seen) begin(sender, id string) ([]byte, bool, int) {
	if s.max <= 0 {
		return nil, true, 0
	}
	k := key{sender, id}
	if e, ok := s.byKey[k]; ok {
		return e.answer, false, 0
	}
	s.byKey[k] = &seenEntry{elem: s.order.PushBack(k)}
	s.trim()
	before := s.attempts[k]
	if s.counting {
		s.attempts[k]++
	}
	return nil, true, before
}

// done stores the answer body of a request.
func (s *seen) done(sender, id string, answer []byte) {
	if s.max <= 0 {
		return
	}
	k := key{sender, id}
	if e, ok := s.byKey[k]; ok {
		e.answer = answer
	}
	delete(s.attempts, k)
}

// lines is the window as journal lines: the answers, then the pending attempts.
func (s *seen) lines() []journalLine {
	out := make([]journalLine, 0, s.order.Len()+len(s.attempts))
	for e := s.order.Front(); e != nil; e = e.Next() {
		k := e.Value.(key)
		if a := s.byKey[k].answer; a != nil {
			out = append(out, journalLine{Sender: k.sender, ID: k.id, Answer: string(a)})
		}
	}
	for k, c := range s.attempts {
		for range c {
			out = append(out, journalLine{Sender: k.sender, ID: k.id, Begin: true})
		}
	}
	return out
}
