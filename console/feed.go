package console

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"
)

// event is one server-sent event: its name and its data (one line of JSON).
type event struct {
	name string
	data []byte
}

// feed polls the registry for the view while at least one client listens, and hands each
// client the latest event that differs from the one before. The poller goroutine belongs to
// the subscribers: the first to arrive starts it, the last to leave stops it and waits for
// it, so nothing runs once no page is open.
type feed struct {
	reg     Registry
	every   time.Duration
	timeout time.Duration
	log     *slog.Logger

	mu     sync.Mutex
	subs   map[chan event]struct{}
	gen    int                // the current poller's generation; an older one's events are dropped
	last   *event             // the current poller's latest event, handed to a new subscriber
	cancel context.CancelFunc // stops the current poller; nil when none runs
	done   chan struct{}      // closed when it has returned
}

func newFeed(reg Registry, every, timeout time.Duration, log *slog.Logger) *feed {
	return &feed{reg: reg, every: every, timeout: timeout, log: log, subs: map[chan event]struct{}{}}
}

// subscribe returns a channel (size 1, latest event wins) that gets the current event at
// once when there is one, and every change after it.
func (f *feed) subscribe() chan event {
	ch := make(chan event, 1)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs[ch] = struct{}{}
	if f.cancel == nil {
		f.gen++
		f.last = nil
		var ctx context.Context
		ctx, f.cancel = context.WithCancel(context.Background())
		f.done = make(chan struct{})
		go f.poll(ctx, f.gen, f.done)
	} else if f.last != nil {
		ch <- *f.last
	}
	return ch
}

// unsubscribe forgets ch; the last subscriber stops the poller and waits for it.
func (f *feed) unsubscribe(ch chan event) {
	f.mu.Lock()
	delete(f.subs, ch)
	if len(f.subs) > 0 || f.cancel == nil {
		f.mu.Unlock()
		return
	}
	cancel, done := f.cancel, f.done
	f.cancel, f.done, f.last = nil, nil, nil
	f.mu.Unlock()
	cancel()
	<-done
}

// publish hands ev to every subscriber, unless a newer poller has started or nothing
// changed.
func (f *feed) publish(gen int, ev event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if gen != f.gen || (f.last != nil && f.last.name == ev.name && bytes.Equal(f.last.data, ev.data)) {
		return
	}
	if ev.name == "problem" {
		f.log.Warn("console: the registry does not answer", "detail", string(ev.data))
	}
	f.last = &ev
	for ch := range f.subs {
		select { // replace an event the client has not taken yet
		case <-ch:
		default:
		}
		ch <- ev
	}
}

// fallbackRetry is how many ticks a feed reading a registry that does not answer the
// directory request (python -m at_queue) lets pass before it asks again.
const fallbackRetry = 30

// poll runs one tick at once and then every f.every until ctx ends.
func (f *feed) poll(ctx context.Context, gen int, done chan<- struct{}) {
	defer close(done)
	p := poller{reg: f.reg, timeout: f.timeout}
	t := time.NewTicker(f.every)
	defer t.Stop()
	for {
		ev := p.tick(ctx)
		if ctx.Err() != nil {
			return
		}
		f.publish(gen, ev)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// poller is the state of one poll loop: the descriptions it has read, so that inspect_all
// (every description) is asked for only when a component registered or left.
type poller struct {
	reg      Registry
	timeout  time.Duration
	liveness bool                       // the registry answers the directory request
	descs    map[string]json.RawMessage // name + "\x00" + session + "\x00" + registered_at → description
	sinceDir int                        // ticks since the directory was last asked for, in fallback
}

func descKey(e Entry) string { return e.Name + "\x00" + e.SessionID + "\x00" + e.RegisteredAt }

// tick reads the view (a "directory" event) or says why it cannot (a "problem" event).
func (p *poller) tick(ctx context.Context) event {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	v, err := p.view(ctx)
	if err != nil {
		data, _ := json.Marshal(map[string]string{"error": "the registry does not answer: " + err.Error()})
		return event{name: "problem", data: data}
	}
	data, err := json.Marshal(v)
	if err != nil { // a description the registry kept is not JSON: nothing to show
		data, _ = json.Marshal(map[string]string{"error": err.Error()})
		return event{name: "problem", data: data}
	}
	return event{name: "directory", data: data}
}

func (p *poller) view(ctx context.Context) (View, error) {
	if !p.liveness {
		p.sinceDir++
		if p.descs != nil && p.sinceDir < fallbackRetry {
			raw, err := p.reg.InspectAll(ctx)
			if err != nil {
				return View{}, err
			}
			all, err := parseInspectAll(raw)
			return fromInspectAll(all, true), err
		}
		v, err := Load(ctx, p.reg, true)
		if err != nil {
			return v, err
		}
		p.remember(v)
		p.sinceDir, p.liveness = 0, v.Liveness
		return v, nil
	}
	entries, err := p.reg.Directory(ctx)
	if err != nil {
		p.liveness = false // ask for both again next time
		return View{}, err
	}
	v := View{Liveness: true, Components: make([]Entry, 0, len(entries))}
	for _, d := range entries {
		v.Components = append(v.Components, fromDirectory(d, nil, true))
	}
	for i := range v.Components {
		desc, ok := p.descs[descKey(v.Components[i])]
		if !ok {
			raw, err := p.reg.InspectAll(ctx)
			if err != nil {
				return View{}, err
			}
			all, err := parseInspectAll(raw)
			if err != nil {
				return View{}, err
			}
			v = merge(entries, all, true)
			p.remember(v)
			return v, nil
		}
		v.Components[i].Description = desc
	}
	return v, nil
}

// remember keeps the descriptions of v, and only those (components that left are
// forgotten).
func (p *poller) remember(v View) {
	p.descs = make(map[string]json.RawMessage, len(v.Components))
	for _, e := range v.Components {
		p.descs[descKey(e)] = e.Description
	}
}
