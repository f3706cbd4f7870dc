package console

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/wire"
)

// wait bounds every step of these tests.
const wait = 10 * time.Second

func serve(t *testing.T, c *Console) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	c.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// stream is an open GET /api/events.
type stream struct {
	t      *testing.T
	body   io.Closer
	events chan [2]string // name, data
}

func openStream(t *testing.T, srv *httptest.Server) *stream {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+PathEvents, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/event-stream" {
		t.Fatalf("GET %s: %d %s", PathEvents, resp.StatusCode, ct)
	}
	s := &stream{t: t, body: resp.Body, events: make(chan [2]string, 16)}
	done := make(chan struct{})
	go func() { // reads until the body is closed
		defer close(done)
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var name, data string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = strings.TrimPrefix(line, "data: ")
			case line == "" && name != "":
				s.events <- [2]string{name, data}
				name, data = "", ""
			}
		}
	}()
	t.Cleanup(func() { s.close(); <-done })
	return s
}

func (s *stream) close() { _ = s.body.Close() }

// next is the next event; it fails the test when none comes within wait.
func (s *stream) next() (string, View, string) {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.t.Fatal("the stream ended")
		}
		var v View
		if ev[0] == "directory" {
			if err := json.Unmarshal([]byte(ev[1]), &v); err != nil {
				s.t.Fatalf("directory event %s: %v", ev[1], err)
			}
		}
		return ev[0], v, ev[1]
	case <-time.After(wait):
		s.t.Fatalf("no event within %v", wait)
	}
	return "", View{}, ""
}

func names(v View) string {
	var n []string
	for _, e := range v.Components {
		n = append(n, e.Name)
	}
	return strings.Join(n, " ")
}

// The event stream: the view at once; then only changes (a component registering, one
// found dead), although the registry is asked every period; inspect_all only when a
// component came or went; a "problem" while the registry does not answer; a second page
// gets the current view at once; the poller stops when the last page leaves.
func TestEvents(t *testing.T) {
	reg := &fakeRegistry{entries: []wire.DirectoryEntry{entry("IntSummator", true, 1)}}
	c, err := New(reg, WithPollEvery(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, c)
	s := openStream(t, srv)
	if name, v, _ := s.next(); name != "directory" || names(v) != "IntSummator" || !v.Liveness || v.Components[0].Description == nil {
		t.Fatalf("first event %s %+v", name, v)
	}

	// Polled many times, nothing changed: no event. Then a change: the next event has it.
	d0, _ := reg.calls()
	eventually(t, wait, "the registry is asked again and again", func() bool { d, _ := reg.calls(); return d >= d0+5 })
	reg.set(func(f *fakeRegistry) { f.entries = append(f.entries, entry("Guard", true, 2)) })
	if name, v, _ := s.next(); name != "directory" || names(v) != "IntSummator Guard" {
		t.Fatalf("after Guard registered: %s %+v", name, v)
	}
	reg.set(func(f *fakeRegistry) { f.entries[1].Alive = false })
	name, v, _ := s.next()
	if name != "directory" || *v.Components[1].Alive || v.Components[1].LastAlive == "" {
		t.Fatalf("after Guard died: %s %+v", name, v)
	}
	if _, all := reg.calls(); all != 2 {
		t.Errorf("inspect_all asked %d times, want 2 (at start, when Guard came)", all)
	}

	// A second page gets the current view at once.
	s2 := openStream(t, srv)
	if name, v2, _ := s2.next(); name != "directory" || names(v2) != "IntSummator Guard" || *v2.Components[1].Alive {
		t.Errorf("second page: %s %+v", name, v2)
	}

	reg.set(func(f *fakeRegistry) { f.fail = errDown })
	if name, _, data := s.next(); name != "problem" || !strings.Contains(data, "registry down") {
		t.Errorf("registry failing: %s %s", name, data)
	}
	reg.set(func(f *fakeRegistry) { f.fail = nil })
	if name, v, _ := s.next(); name != "directory" || names(v) != "IntSummator Guard" {
		t.Errorf("registry back: %s %+v", name, v)
	}

	s.close()
	s2.close()
	eventually(t, wait, "the poller stops once no page listens", func() bool {
		c.feed.mu.Lock()
		defer c.feed.mu.Unlock()
		return c.feed.cancel == nil && len(c.feed.subs) == 0
	})
	d1, _ := reg.calls()
	s3 := openStream(t, srv) // and starts again for the next one
	if name, v, _ := s3.next(); name != "directory" || names(v) != "IntSummator Guard" {
		t.Errorf("a page after a pause: %s %+v", name, v)
	}
	if d, _ := reg.calls(); d <= d1 {
		t.Errorf("the new page's view was not read again")
	}
}

// Against python -m at_queue the stream carries inspect_all's view, liveness unknown.
func TestEventsWithoutDirectory(t *testing.T) {
	reg := &fakeRegistry{noDirectory: true, entries: []wire.DirectoryEntry{entry("IntSummator", true, 1)}}
	c, err := New(reg, WithPollEvery(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	s := openStream(t, serve(t, c))
	if name, v, _ := s.next(); name != "directory" || v.Liveness || names(v) != "IntSummator" || v.Components[0].Alive != nil {
		t.Fatalf("first event %s %+v", name, v)
	}
	reg.set(func(f *fakeRegistry) { f.entries = append(f.entries, entry("Guard", true, 2)) })
	if name, v, _ := s.next(); name != "directory" || names(v) != "IntSummator Guard" {
		t.Fatalf("after Guard registered: %s %+v", name, v)
	}
	if d, all := reg.calls(); d != 1 || all < 2 {
		t.Errorf("directory asked %d times, inspect_all %d: want the directory once, then inspect_all alone", d, all)
	}
}

// The page, its assets, the stream names and the directory as JSON.
func TestRoutes(t *testing.T) {
	reg := &fakeRegistry{entries: []wire.DirectoryEntry{entry("IntSummator", true, 1)}}
	c, err := New(reg, WithCallStream("api/calls"))
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, c)
	get := func(path string) (int, string, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	for _, tc := range []struct{ path, ctype, has string }{
		{"/", "text/html; charset=utf-8", `<script src="console/console.js"`},
		{"/console/console.js", "text/javascript; charset=utf-8", "api/exec_method"},
		{"/console/console.css", "text/css; charset=utf-8", ".field-error"},
		{"/api/console", "application/json", `{"streams":{"calls":"api/calls","directory":"api/events"}}`},
		{"/api/directory", "application/json", `"components":[{"name":"IntSummator","session_id":"sid-IntSummator","alive":true,`},
	} {
		code, ctype, body := get(tc.path)
		if code != 200 || ctype != tc.ctype || !strings.Contains(body, tc.has) {
			t.Errorf("GET %s: %d %q, body without %q:\n%.300s", tc.path, code, ctype, tc.has, body)
		}
	}
	if code, _, _ := get("/console/nothing.js"); code != http.StatusNotFound {
		t.Errorf("GET a missing asset: %d", code)
	}
	reg.set(func(f *fakeRegistry) { f.fail = errDown })
	if code, _, body := get("/api/directory"); code != http.StatusBadGateway || !strings.Contains(body, "registry down") {
		t.Errorf("GET /api/directory, registry failing: %d %s", code, body)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	reg := &fakeRegistry{}
	for _, opts := range [][]Option{{WithPollEvery(0)}, {WithTimeout(-time.Second)}} {
		if _, err := New(reg, opts...); err == nil {
			t.Errorf("New accepted %d options it cannot work with", len(opts))
		}
	}
	if _, err := New(nil); err == nil {
		t.Error("New accepted no registry")
	}
}
