package component

import (
	"encoding/json"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/wire"
)

// Direct calls. A component that calls others follows the Go registry's directory
// (subscribed at its first call, renewed with each registry check). A request to a peer
// the directory shows as a live Go component that takes direct calls is published on the
// peer's recieve- queue with the caller's session in wire.DirectHeader, and the peer
// answers on the caller's recieve- queue: two queue hops instead of four. Everything
// else keeps the registry's route, and with it every answer the registry gives (not
// registered, not alive): the directory is only ever trusted to say "this peer can be
// called directly", and a request to a queue that is gone goes the registry's way after
// all. Requests a direct peer never takes (it died) wait in its queue, where the registry
// finds and answers them as it does for routed ones. The calls made directly are reported
// to the registry in batches, so that its watchers and metrics see them.

// peer is what the directory says of another component.
type peer struct {
	sid    string
	queue  string // its recieve- queue
	direct bool   // a live Go component that takes direct calls
}

// directory is the component's view of the registry's directory, and the direct calls
// it has not reported yet.
type directory struct {
	id     string // the subscription's request id; "" until the first call
	ready  bool   // the whole directory has come
	peers  map[string]peer
	report bool // the registry wants the direct calls reported (it has metrics or watchers)

	calls []endedCall // direct calls that ended, not reported yet
	timer *time.Timer // runs while calls wait to be reported

	// Kept rather than built for each message: this component's send- queue, the headers
	// of a direct request that has none of its own (headers are only ever read), and the
	// recieve- queues of the callers answered directly (at most maxAnswerQueues).
	sendQueue     string
	directHeaders wire.Headers
	answerQueues  map[string]string
}

// endedCall is a direct call that ended, and when.
type endedCall struct {
	ev wire.CallEvent // without At
	at time.Time
}

// maxAnswerQueues bounds the callers' queue names a component keeps.
const maxAnswerQueues = 1024

// sendQueue is send-<this component's session>.
func (k *core) sendQueue() string {
	if k.dir.sendQueue == "" {
		k.dir.sendQueue = wire.SendQueue(k.h.sid)
	}
	return k.dir.sendQueue
}

// directHeaders is h with the caller's session added (h itself is not changed: it may be
// the caller's); one shared map when h is empty.
func (k *core) directHeaders(h wire.Headers) wire.Headers {
	if len(h) > 0 {
		return withDirect(h, k.h.sid)
	}
	if k.dir.directHeaders == nil {
		k.dir.directHeaders = withDirect(nil, k.h.sid)
	}
	return k.dir.directHeaders
}

const (
	// reportEvery is how long the direct calls that ended wait before they are reported
	// to the registry, at most; reportBatch calls are reported at once.
	reportEvery = time.Second
	reportBatch = 256
)

// reportDue is the end of a reportEvery wait.
type reportDue struct{}

// directPeer is the peer to call receiver directly at, if the directory allows it.
func (k *core) directPeer(receiver string) (peer, bool) {
	if k.noDirect || !k.dir.ready || receiver == wire.RegistryName {
		return peer{}, false
	}
	p, ok := k.dir.peers[receiver]
	return p, ok && p.direct
}

// followDirectory subscribes the component to the directory's changes, once: with a Go
// registry, when it makes its first call.
func (k *core) followDirectory(c actor.Context) {
	if k.noDirect || !k.goRegistry || k.dir.id != "" || k.phase != serving {
		return
	}
	id := k.publishToRegistry(c, wire.DirectoryWatch{Type: wire.TypeDirectory, Watch: true})
	if id == "" {
		return
	}
	k.dir.id = id
	k.internal[id] = directoryWatch
}

// renewDirectory asks the registry to keep the subscription; one that restarted since
// answers it with the whole directory again.
func (k *core) renewDirectory(c actor.Context) {
	if k.dir.id != "" && k.goRegistry {
		k.publishToRegistry(c, wire.DirectoryWatch{Type: wire.TypeDirectory, Watch: true, Renew: k.dir.id})
	}
}

// publishToRegistry sends msg to the registry through the component's own queue, and
// returns the request's message id ("" when msg cannot be encoded).
func (k *core) publishToRegistry(c actor.Context, msg any) string {
	payload, err := wire.Compact(msg)
	if err != nil {
		k.log.Error("cannot encode a message to the registry", "component", k.def.name, "err", err)
		return ""
	}
	env := wire.Envelope{Sender: k.def.name, Reciever: wire.RegistryName, MessageID: wire.NewID(), Message: payload}
	body, err := env.Marshal()
	if err != nil {
		k.log.Error("cannot encode a message to the registry", "component", k.def.name, "err", err)
		return ""
	}
	c.Send(k.bridge, &bridge.Publish{Queue: wire.SendQueue(k.h.sid), Body: body})
	return env.MessageID
}

// directoryAnswer takes an answer to the subscription: the whole directory first (and
// again after the registry restarted), then what changed.
func (k *core) directoryAnswer(env wire.Envelope) {
	var m struct {
		Result  json.RawMessage       `json:"result"`
		Changed []wire.DirectoryEntry `json:"changed"`
		Removed []string              `json:"removed"`
		Report  bool                  `json:"report"`
	}
	if err := wire.Unmarshal(env.Message, &m); err != nil {
		k.log.Warn("unreadable directory from the registry", "component", k.def.name, "err", err)
		return
	}
	if len(m.Result) > 0 {
		var all []wire.DirectoryEntry
		if err := wire.Unmarshal(m.Result, &all); err != nil {
			k.log.Warn("unreadable directory from the registry", "component", k.def.name, "err", err)
			return
		}
		k.dir.peers = make(map[string]peer, len(all))
		m.Changed = all
		if !k.dir.ready {
			k.log.Debug("following the directory", "component", k.def.name, "components", len(all))
		}
		k.dir.ready = true
	}
	if k.dir.peers == nil {
		return // changes before the whole directory: it comes next
	}
	k.dir.report = m.Report
	if !k.dir.report {
		k.dir.calls = nil
	}
	for _, e := range m.Changed {
		k.dir.peers[e.Name] = peer{sid: e.SessionID, queue: wire.RecieveQueue(e.SessionID), direct: e.Direct && e.Alive}
	}
	for _, n := range m.Removed {
		delete(k.dir.peers, n)
	}
}

// withDirect is h with the caller's session added (h itself is not changed: it may be
// the caller's).
func withDirect(h wire.Headers, sid string) wire.Headers {
	out := make(wire.Headers, len(h)+1)
	for key, v := range h {
		out[key] = v
	}
	out[wire.DirectHeader] = sid
	return out
}

// reroute sends a direct request whose peer's queue is gone the registry's way, which
// gives the answer the registry gives; the peer is not called directly again until the
// directory says so.
func (k *core) reroute(c actor.Context, id string) bool {
	w, ok := k.pending[id]
	if !ok || !w.direct {
		return false
	}
	if p, ok := k.dir.peers[w.to]; ok {
		p.direct = false
		k.dir.peers[w.to] = p
	}
	w.direct = false
	k.pending[id] = w
	c.Send(k.bridge, &bridge.Publish{Queue: wire.SendQueue(k.h.sid), Body: w.body, Headers: w.headers,
		Notify: c.Self(), ErrorsOnly: true, Tag: callTag{id: id}})
	return true
}

// ended records a direct call that ended (outcome "timeout" when its caller gave up),
// for the next report to the registry.
func (k *core) ended(c actor.Context, id string, w waiter, outcome, text string) {
	if !k.goRegistry || !k.dir.report {
		return
	}
	now := time.Now()
	k.dir.calls = append(k.dir.calls, endedCall{at: now, ev: wire.CallEvent{Type: wire.TypeCall,
		From: k.def.name, To: w.to, Method: w.method, MessageID: id, Outcome: outcome, Error: text,
		Ms: float64(now.Sub(w.start).Microseconds()) / 1000, Direct: true}})
	switch {
	case len(k.dir.calls) >= reportBatch:
		k.reportCalls(c)
	case k.dir.timer == nil:
		self, sys := c.Self(), c.ActorSystem()
		k.dir.timer = time.AfterFunc(reportEvery, func() { sys.Root.Send(self, &reportDue{}) })
	}
}

// reportCalls tells the registry of the direct calls that ended since the last report.
func (k *core) reportCalls(c actor.Context) {
	if k.dir.timer != nil {
		k.dir.timer.Stop()
		k.dir.timer = nil
	}
	if len(k.dir.calls) == 0 {
		return
	}
	evs := make([]wire.CallEvent, len(k.dir.calls))
	for i, e := range k.dir.calls {
		evs[i] = e.ev
		evs[i].At = e.at.UTC().Format(time.RFC3339Nano)
	}
	k.publishToRegistry(c, wire.CallsReport{Type: wire.TypeCalls, Calls: evs})
	k.dir.calls = k.dir.calls[:0]
}

// answerQueue is where the answer to the request d delivered goes: the caller's
// recieve- queue for a direct request, this component's send- queue (the registry's
// route) otherwise.
func (k *core) answerQueue(d *bridge.Delivery) string {
	if d != nil {
		if sid, ok := d.Headers.DirectSession(); ok {
			q, ok := k.dir.answerQueues[sid]
			if !ok {
				if k.dir.answerQueues == nil || len(k.dir.answerQueues) >= maxAnswerQueues {
					k.dir.answerQueues = map[string]string{}
				}
				q = wire.RecieveQueue(sid)
				k.dir.answerQueues[sid] = q
			}
			return q
		}
	}
	return k.sendQueue()
}
