package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/at-technology/atqueue/wire"
)

// PathCalls is where Calls serves its stream, relative to the page's root.
const PathCalls = "/api/calls"

// Calls is the live stream of the calls a registry routes, for the page's calls panel and
// any client of server-sent events: Publish hands it each call as the registry reports it
// (registry.Watch), ServeHTTP streams them, one "call" event each, to every connected
// client. A client that cannot keep up loses events, never holds up the others.
type Calls struct {
	active func(bool) // told when the first client comes and the last one goes

	mu   sync.Mutex
	subs map[chan []byte]struct{}
}

// NewCalls returns a stream with no client. active (may be nil) is called with true when
// the first client connects and with false when the last one leaves, so that the source
// of the events (a registry watch) runs only while someone looks.
func NewCalls(active func(bool)) *Calls {
	return &Calls{active: active, subs: map[chan []byte]struct{}{}}
}

// callsBuffer is how many events wait for a slow client before it loses some.
const callsBuffer = 256

// Publish hands ev to every client; it never blocks.
func (s *Calls) Publish(ev *wire.CallEvent) {
	b, err := json.Marshal(ev)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.subs {
		select {
		case ch <- b:
		default:
		}
	}
}

// Clients counts the connected clients.
func (s *Calls) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

func (s *Calls) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fl, ok := openEvents(w)
	if !ok {
		return
	}
	ch := make(chan []byte, callsBuffer)
	s.mu.Lock()
	s.subs[ch] = struct{}{}
	first := len(s.subs) == 1
	s.mu.Unlock()
	if first && s.active != nil {
		s.active(true)
	}
	defer func() {
		s.mu.Lock()
		delete(s.subs, ch)
		last := len(s.subs) == 0
		s.mu.Unlock()
		if last && s.active != nil {
			s.active(false)
		}
	}()
	t := time.NewTicker(keepAlive)
	defer t.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case b := <-ch:
			_, err = fmt.Fprintf(w, "event: call\ndata: %s\n\n", b)
		case <-t.C:
			_, err = fmt.Fprint(w, ": keep-alive\n\n")
		}
		if err != nil {
			return
		}
		fl.Flush()
	}
}
