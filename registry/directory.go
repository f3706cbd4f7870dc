package registry

import (
	"encoding/json"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/metrics"
	"github.com/at-technology/atqueue/wire"
)

// Go callers call Go peers directly (see docs/call-path.md): they learn the directory
// from the registry, which keeps every subscriber told of the changes, and they report
// the calls they made, which the registry counts and shows as if it had routed them.

// dirWatcher is a component subscribed to the directory's changes: each change is an
// answer to its subscription request id, on its own queue.
type dirWatcher struct {
	sid string
	id  string
}

// dirFlushAfter gathers the changes of a burst (components registering together) into
// one message per subscriber.
const dirFlushAfter = 20 * time.Millisecond

// dirFlush is the end of a dirFlushAfter wait.
type dirFlush struct{}

// maxReported bounds the calls one report may hold.
const maxReported = 4096

// entryOf is e as a directory entry.
func (r *registryActor) entryOf(e *entry, now time.Time) wire.DirectoryEntry {
	consumers := -1
	if e.probed {
		consumers = e.consumers
	}
	return wire.DirectoryEntry{
		Name: e.name, SessionID: e.sid, Alive: !e.dead(now, &r.st.cfg), Consumers: consumers, Methods: e.methods,
		RegisteredAt: e.registeredAt.UTC().Format(time.RFC3339Nano), LastAlive: e.lastAlive.UTC().Format(time.RFC3339Nano),
		Go: e.instance != "", Direct: e.direct,
	}
}

// directory is the answer to a "directory" request: every component, in registration
// order, with what the registry knows of its liveness.
func (r *registryActor) directory() []wire.DirectoryEntry {
	st := r.st
	now := time.Now()
	out := make([]wire.DirectoryEntry, 0, len(st.order))
	for _, n := range st.order {
		out = append(out, r.entryOf(st.byName[n], now))
	}
	return out
}

// serveDirectory answers a directory request. With "watch" from a registered component
// on its own queue, the sender is also subscribed to the changes; a renewal of a
// subscription the registry knows is not answered, one it does not know (the registry
// restarted) is subscribed again and answered with the whole directory.
func (r *registryActor) serveDirectory(c actor.Context, env *wire.Envelope, reply string, d *bridge.Delivery) {
	st := r.st
	var w wire.DirectoryWatch
	_ = json.Unmarshal(env.Message, &w)
	e := st.byName[env.Sender]
	if !w.Watch || e == nil || reply != wire.RecieveQueue(e.sid) {
		r.answer(c, reply, wire.RegistryName, env.Sender, env.MessageID, wire.Object{{Key: "result", Value: r.directory()}}, nil, d)
		return
	}
	st.reporting = r.observing()
	id := env.MessageID
	if w.Renew != "" {
		if cur, ok := st.dirWatchers[e.name]; ok && cur.id == w.Renew {
			c.Send(st.bridge, &bridge.Settle{D: d})
			return
		}
		id = w.Renew
	}
	if _, ok := st.dirWatchers[e.name]; !ok {
		st.cfg.log.Info("a component follows the directory", "component", e.name)
	}
	st.dirWatchers[e.name] = dirWatcher{sid: e.sid, id: id}
	r.answer(c, reply, wire.RegistryName, env.Sender, id,
		wire.Object{{Key: "result", Value: r.directory()}, {Key: "report", Value: st.reporting}}, nil, d)
}

// dirChanged notes that name's entry changed, for the subscribers' next change message:
// within dirFlushAfter when it registered (until they know, callers reach it through
// the registry), now when it can no longer be called directly (it left, or was found
// dead), so that callers stop calling it directly at once.
func (r *registryActor) dirChanged(c actor.Context, name string, now bool) {
	st := r.st
	if len(st.dirWatchers) == 0 {
		return
	}
	st.dirDirty[name] = struct{}{}
	if now {
		if st.dirTimer != nil {
			st.dirTimer.Stop()
		}
		r.flushDirectory(c)
		return
	}
	if st.dirTimer == nil && st.self != nil {
		self, sys := st.self, st.sys
		st.dirTimer = time.AfterFunc(dirFlushAfter, func() { sys.Root.Send(self, &dirFlush{}) })
	}
}

// observersChanged tells the directory's followers when the registry starts or stops
// wanting reports of direct calls (its first watcher came, its last one left).
func (r *registryActor) observersChanged(c actor.Context) {
	st := r.st
	if now := r.observing(); now != st.reporting {
		st.reporting = now
		st.dirForce = true
		r.flushDirectory(c)
	}
}

// flushDirectory sends every subscriber what changed since the last flush.
func (r *registryActor) flushDirectory(c actor.Context) {
	st := r.st
	st.dirTimer = nil
	if len(st.dirDirty) == 0 && !st.dirForce {
		return
	}
	st.dirForce = false
	now := time.Now()
	ch := wire.DirectoryChange{Changed: []wire.DirectoryEntry{}, Removed: []string{}, Report: st.reporting}
	for _, n := range st.order { // in registration order
		if _, ok := st.dirDirty[n]; ok {
			ch.Changed = append(ch.Changed, r.entryOf(st.byName[n], now))
			delete(st.dirDirty, n)
		}
	}
	for n := range st.dirDirty {
		ch.Removed = append(ch.Removed, n)
		delete(st.dirDirty, n)
	}
	for name, w := range st.dirWatchers {
		r.answer(c, wire.RecieveQueue(w.sid), wire.RegistryName, name, w.id, ch, nil, nil)
	}
}

// reported takes a caller's report of the calls it made directly: each is counted and
// shown to the watchers as a call the registry routed. Reports are not answered.
func (r *registryActor) reported(c actor.Context, env *wire.Envelope, reply string, d *bridge.Delivery) {
	st := r.st
	c.Send(st.bridge, &bridge.Settle{D: d})
	e := st.byName[env.Sender]
	if e == nil || reply != wire.RecieveQueue(e.sid) {
		st.cfg.log.Warn("dropped a report of calls that does not come from a registered component's own queue", "sender", env.Sender)
		return
	}
	if !r.observing() {
		return
	}
	var rep wire.CallsReport
	if err := wire.Unmarshal(env.Message, &rep); err != nil {
		st.cfg.log.Warn("dropped an unreadable report of calls", "sender", env.Sender, "err", err)
		return
	}
	if len(rep.Calls) > maxReported {
		rep.Calls = rep.Calls[:maxReported]
	}
	now := time.Now()
	for _, ev := range rep.Calls {
		if _, err := time.Parse(time.RFC3339Nano, ev.At); err != nil {
			ev.At = ""
		}
		target := st.byName[ev.To]
		to, method := metrics.Unknown, metrics.Unknown
		if target != nil {
			// A component called directly is probed as one called through the registry:
			// its callers learn of its death from the directory within about deadAfter,
			// whatever the background round.
			r.probeStale(c, target, now)
			to = target.name
			if _, ok := target.methodSet[ev.Method]; ok || isBuiltin(ev.Method) {
				method = ev.Method
			}
		}
		st.cfg.metrics.Routed(to, method)
		f := &flight{from: e.name, to: to, method: method, direct: true, at: ev.At}
		r.ended(c, f, ev.MessageID, reportedOutcome(ev.Outcome), ev.Error, time.Duration(ev.Ms*float64(time.Millisecond)))
	}
}

func isBuiltin(method string) bool {
	switch method {
	case wire.TypePing, wire.TypeCheckConfigured, wire.TypeConfigurate:
		return true
	}
	return false
}

// reportedOutcome keeps a reported outcome to the ones the registry itself counts, so
// that a report cannot make up metric labels.
func reportedOutcome(o string) string {
	switch o {
	case "ok", "timeout", "failed":
		return o
	}
	for k := wire.KindRemote; k <= wire.KindCrashed; k++ {
		if o == k.String() {
			return o
		}
	}
	return wire.KindRemote.String()
}
