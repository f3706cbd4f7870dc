package component

// seen remembers the answers of recent requests by (sender, message_id), so that a
// request delivered again (after a reconnect or a crash before its acknowledgement) is
// not executed twice: its stored answer is sent again instead. A request still running
// is recorded with a nil answer; its duplicate is dropped because the first one will be
// answered. The window is bounded; the oldest entries are forgotten first. It belongs to
// the component's actor, which alone touches it.
type seen struct {
	max   int
	ring  []seenSlot // the window, oldest first from head; grows by doubling up to max
	head  int
	n     int
	byKey map[key]int // → its slot in ring
	// With a journal (WithDedupeFile) the window outlives the process; attempts counts
	// the starts of requests that never got an answer.
	counting bool
	attempts map[key]int
}

type key struct{ sender, id string }

type seenSlot struct {
	k      key
	answer []byte // nil while the request runs
}

func newSeen(max int) *seen {
	return &seen{max: max, byKey: make(map[key]int), attempts: map[key]int{}}
}

// add records k as the newest of the window, forgetting the oldest when it is full.
func (s *seen) add(k key, answer []byte) {
	if s.n == len(s.ring) && s.n < s.max {
		ring := make([]seenSlot, min(max(16, 2*len(s.ring)), s.max))
		for i := range s.n {
			ring[i] = s.ring[(s.head+i)%len(s.ring)]
			s.byKey[ring[i].k] = i
		}
		s.ring, s.head = ring, 0
	}
	var i int
	if s.n == len(s.ring) { // full: the oldest goes
		i = s.head
		delete(s.byKey, s.ring[i].k)
		s.head = (s.head + 1) % len(s.ring)
	} else {
		i = (s.head + s.n) % len(s.ring)
		s.n++
	}
	s.ring[i] = seenSlot{k: k, answer: answer}
	s.byKey[k] = i
}

// remember records an answered request.
func (s *seen) remember(k key, answer []byte) {
	if s.max <= 0 {
		return
	}
	if i, ok := s.byKey[k]; ok {
		s.ring[i].answer = answer
		return
	}
	s.add(k, answer)
}

// begin records a request. It returns (nil, true, n) for a request to run, n being how
// often it was started before without an answer (by processes that died); (answer,
// false, 0) for one answered already; and (nil, false, 0) for one still running.
func (s *seen) begin(sender, id string) ([]byte, bool, int) {
	if s.max <= 0 {
		return nil, true, 0
	}
	k := key{sender, id}
	if i, ok := s.byKey[k]; ok {
		return s.ring[i].answer, false, 0
	}
	s.add(k, nil)
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
	if i, ok := s.byKey[k]; ok {
		s.ring[i].answer = answer
	}
	delete(s.attempts, k)
}

// lines is the window as journal lines: the answers, then the pending attempts.
func (s *seen) lines() []journalLine {
	out := make([]journalLine, 0, s.n+len(s.attempts))
	for i := range s.n {
		if sl := s.ring[(s.head+i)%len(s.ring)]; sl.answer != nil {
			out = append(out, journalLine{Sender: sl.k.sender, ID: sl.k.id, Answer: string(sl.answer)})
		}
	}
	for k, c := range s.attempts {
		for range c {
			out = append(out, journalLine{Sender: k.sender, ID: k.id, Begin: true})
		}
	}
	return out
}
