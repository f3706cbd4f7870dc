package registry

import (
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/metrics"
	"github.com/at-technology/atqueue/wire"
)

// The registry follows the calls it routes when something wants them: its metrics
// (WithMetrics), or watchers (Watch in process, a "watch" request from a component).
// A request it routes is remembered by message id until its answer passes; then the
// call's outcome and time are counted and told to the watchers.

// WithMetrics counts what the registry routes in m (see package metrics).
func WithMetrics(m *metrics.Metrics) Option { return func(c *config) { c.metrics = m } }

// Watch subscribes the sender to the calls the registry routes: it is sent a
// *wire.CallEvent for each call that ends (answered by its receiver, or by the registry).
// Unwatch ends it.
type Watch struct{}

// Unwatch ends the sender's Watch.
type Unwatch struct{}

// flight is a request routed and not answered yet.
type flight struct {
	from, to, method string
	start            time.Time
	direct           bool   // reported by its caller, not routed here
	at               string // when a reported call ended (the caller's clock)
}

// remoteWatcher is a component that asked for the stream of calls: events are answers to
// its watch request, on its own queue.
type remoteWatcher struct {
	sid string
	id  string // the watch request's message id
}

// flightTTL bounds how long a request's answer is waited for; afterwards it is counted
// as unanswered and forgotten.
const flightTTL = 5 * time.Minute

// maxFlights bounds the requests remembered at once.
const maxFlights = 1 << 16

func (r *registryActor) observing() bool {
	st := r.st
	return st.cfg.metrics != nil || len(st.watchers) > 0 || len(st.remote) > 0
}

// methodLabel is what a request asks of target: the method of an exec_method the target
// declares, the type of a built-in, or metrics.Unknown.
func methodLabel(msg []byte, target *entry) string {
	var typ, method string
	_ = wire.Fields(msg, func(k string, v []byte) {
		switch k {
		case "type":
			typ, _ = wire.StringValue(v)
		case "method":
			method, _ = wire.StringValue(v)
		}
	})
	switch typ {
	case wire.TypeExecMethod:
		if target != nil {
			if _, ok := target.methodSet[method]; ok {
				return method
			}
		}
	case wire.TypePing, wire.TypeCheckConfigured, wire.TypeConfigurate:
		return typ
	}
	return metrics.Unknown
}

// routedRequest remembers a request forwarded to target.
func (r *registryActor) routedRequest(env *wire.Envelope, target *entry) {
	st := r.st
	if !r.observing() || len(st.flights) >= maxFlights {
		return
	}
	m := methodLabel(env.Message, target)
	st.flights[env.MessageID] = &flight{from: env.Sender, to: target.name, method: m, start: time.Now()}
	st.cfg.metrics.Routed(target.name, m)
}

// routedAnswer ends the call an answer it forwards belongs to.
func (r *registryActor) routedAnswer(c actor.Context, env *wire.Envelope) {
	f := r.st.flights[env.AnswerTo]
	if f == nil {
		return
	}
	delete(r.st.flights, env.AnswerTo)
	outcome, text := wire.Outcome(env.Sender, env.Message)
	r.ended(c, f, env.AnswerTo, outcome, text, time.Since(f.start))
}

// answeredHere ends a request the registry answers itself, with an error of kind.
func (r *registryActor) answeredHere(c actor.Context, env *wire.Envelope, target *entry, kind wire.Kind, text string) {
	if !r.observing() {
		return
	}
	to := metrics.Unknown
	if target != nil {
		to = target.name
	}
	delete(r.st.flights, env.MessageID)
	r.ended(c, &flight{from: env.Sender, to: to, method: methodLabel(env.Message, target)}, env.MessageID, kind.String(), text, 0)
}

// ended counts a call and tells the watchers.
func (r *registryActor) ended(c actor.Context, f *flight, id, outcome, text string, took time.Duration) {
	st := r.st
	hop := took
	if f.direct { // no registry hop: took is the caller's time, which its own metrics count
		hop = 0
	}
	st.cfg.metrics.Answered(f.to, f.method, outcome, hop)
	if len(st.watchers) == 0 && len(st.remote) == 0 {
		return
	}
	at := f.at
	if at == "" {
		at = time.Now().UTC().Format(time.RFC3339Nano)
	}
	ev := &wire.CallEvent{Type: wire.TypeCall, At: at, From: f.from, To: f.to,
		Method: f.method, MessageID: id, Outcome: outcome, Error: text, Ms: float64(took.Microseconds()) / 1000, Direct: f.direct}
	for _, w := range st.watchers {
		c.Send(w, ev)
	}
	for name, w := range st.remote {
		if name == f.from || name == f.to {
			continue // its own calls (the watch itself) would feed the stream
		}
		r.answer(c, wire.RecieveQueue(w.sid), wire.RegistryName, name, w.id, ev, nil, nil)
	}
}

// sweepFlights forgets the requests whose answer did not come within flightTTL, and
// updates the gauges.
func (r *registryActor) sweepFlights(now time.Time) {
	st := r.st
	for id, f := range st.flights {
		if now.Sub(f.start) > flightTTL {
			delete(st.flights, id)
			st.cfg.metrics.Answered(f.to, f.method, "no answer", 0)
		}
	}
	st.cfg.metrics.InFlight(len(st.flights))
	alive := 0
	for _, e := range st.byName {
		if !e.dead(now, &st.cfg) {
			alive++
		}
	}
	st.cfg.metrics.Components(len(st.byName), alive)
}

// watch subscribes a component to the stream of calls (a "watch" request on its own
// queue): the answer says yes, and every event is another answer to the same request.
func (r *registryActor) watch(c actor.Context, env *wire.Envelope, reply string) bool {
	st := r.st
	e := st.byName[env.Sender]
	if e == nil || reply != wire.RecieveQueue(e.sid) {
		return false
	}
	st.remote[e.name] = remoteWatcher{sid: e.sid, id: env.MessageID}
	r.observersChanged(c)
	st.cfg.log.Info("a component watches the calls", "component", e.name)
	return true
}
