package registry

import (
	"errors"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/wire"
)

// tick starts a round of liveness probes.
type tick struct{}

// drainBatch bounds the messages taken from a dead component's queue at once.
const drainBatch = 100

// Liveness probes (one passive declare per component) are sent a slice per tick,
// probeSlices ticks per probeEvery, and at most probeRate a second: a round of 1,000
// probes sent at once every second queued ahead of the routed traffic in the bridge's
// mailbox, on the registry's connection and in the broker, and doubled the p99 of a
// routed call with 1,000 components registered. See WithProbeRate.
const probeSlices = 10

// minProbeTick bounds how often a slice is sent (short intervals in tests).
const minProbeTick = 10 * time.Millisecond

// probeTick is the time between two slices, and how many slices make probeEvery.
func (st *state) probeTick() (every time.Duration, slices int) {
	every = st.cfg.probeEvery / probeSlices
	if every < minProbeTick {
		every = min(minProbeTick, st.cfg.probeEvery)
	}
	return every, max(int(st.cfg.probeEvery/every), 1)
}

func (r *registryActor) schedule(c actor.Context) {
	st := r.st
	if st.cfg.probeEvery <= 0 || st.noProbe {
		return
	}
	self, sys := c.Self(), c.ActorSystem()
	if st.ticker != nil {
		st.ticker.Stop()
	}
	every, _ := st.probeTick()
	st.ticker = time.AfterFunc(every, func() { sys.Root.Send(self, &tick{}) })
}

// probeAll asks, for every component, how many consumers its queue has (when the
// registry starts to serve).
func (r *registryActor) probeAll(c actor.Context) {
	st := r.st
	if !st.active || st.cfg.probeEvery <= 0 {
		return
	}
	now := time.Now()
	for _, n := range st.order {
		r.probe(c, st.byName[n], now)
	}
	r.probeRoundEnd(c)
}

// probeSlice sends the probes of one tick (see nextProbes) and, once per probeEvery,
// does what a round does once.
func (r *registryActor) probeSlice(c actor.Context) {
	st := r.st
	if !st.active || st.cfg.probeEvery <= 0 {
		return
	}
	now := time.Now()
	for _, e := range st.nextProbes(now) {
		r.probe(c, e, now)
	}
	_, slices := st.probeTick()
	if st.probeSlice++; st.probeSlice >= slices {
		st.probeSlice = 0
		r.probeRoundEnd(c)
	}
}

// nextProbes picks the components to probe at this tick: the next ones in registration
// order (wrapping at its end) that have no probe on its way and were not probed within
// half of probeEvery (a request routed to them did), as many as make every component
// probed once per probeEvery, but no more than probeRate allows. A component that
// registers or leaves in the middle of a round shifts the others by one.
func (st *state) nextProbes(now time.Time) []*entry {
	every, slices := st.probeTick()
	n := len(st.order)
	want := (n + slices - 1) / slices
	st.probeCredit = min(st.probeCredit+float64(st.cfg.probeRate)*every.Seconds(), float64(max(want, 1)))
	var out []*entry
	for k := 0; k < n && len(out) < int(st.probeCredit); k++ {
		if st.probeNext >= n {
			st.probeNext = 0
		}
		e := st.byName[st.order[st.probeNext]]
		st.probeNext++
		if !e.probing && now.Sub(e.probeSent) >= st.cfg.probeEvery/2 {
			out = append(out, e)
		}
	}
	st.probeCredit -= float64(len(out))
	return out
}

// probeStale probes a component a request is routed to when its last probe is older
// than probeEvery (the background round is slower with many components): a caller of a
// component that died learns it within about deadAfter.
func (r *registryActor) probeStale(c actor.Context, e *entry, now time.Time) {
	st := r.st
	if st.active && st.cfg.probeEvery > 0 && !st.noProbe && now.Sub(e.probeSent) >= st.cfg.probeEvery {
		r.probe(c, e, now)
	}
}

// probe asks how many consumers e's queue has, unless a probe is on its way already.
func (r *registryActor) probe(c actor.Context, e *entry, now time.Time) {
	if e.probing {
		return
	}
	e.probing, e.probeSent = true, now
	c.Request(r.st.bridge, &bridge.Probe{Queue: wire.RecieveQueue(e.sid), Tag: e.sid})
}

// probeRoundEnd does what a round does once: the components that left and the requests
// in flight.
func (r *registryActor) probeRoundEnd(c actor.Context) {
	st := r.st
	r.sweepFlights(time.Now())
	for sid, l := range st.lingering {
		if !l.probing && !l.draining {
			l.probing = true
			c.Request(st.bridge, &bridge.Probe{Queue: wire.RecieveQueue(sid), Tag: lingerTag{sid: sid}})
		}
	}
}

// lingerTag tags the probes and drains of a component that left.
type lingerTag struct{ sid string }

func (r *registryActor) probed(c actor.Context, m *bridge.Probed) {
	st := r.st
	if errors.Is(m.Err, bridge.ErrUnsupported) {
		st.noProbe = true
	}
	switch tag := m.Tag.(type) {
	case string:
		e := st.bySid[tag]
		if e == nil {
			return
		}
		e.probing = false
		gone := errors.Is(m.Err, bridge.ErrNoQueue)
		if m.Err != nil && !gone {
			return
		}
		now := time.Now()
		e.probed, e.consumers = true, m.Consumers
		st.cfg.metrics.QueueDepth(e.name, m.Messages)
		if e.consumers > 0 {
			if !e.seen {
				st.cfg.log.Info("component consumes its queue", "component", e.name)
			}
			e.lastAlive, e.seen, e.answer = now, true, nil
			if !e.ready && !e.opening { // back after it was found dead
				st.cfg.log.Info("component is alive again", "component", e.name)
				r.open(c, e)
				r.dirChanged(c, e.name, false)
			}
			return
		}
		r.republish(c, e, now)
		if !e.dead(now, &st.cfg) {
			return
		}
		if e.ready { // nothing to route for it: its consumer of the send queue goes
			st.cfg.log.Warn("component found dead", "component", e.name, "no_consumer_for", now.Sub(e.lastAlive).Round(time.Second))
			r.close(c, e)
			r.dirChanged(c, e.name, true)
		}
		if st.cfg.forgetAfter > 0 && now.Sub(e.lastAlive) >= st.cfg.forgetAfter {
			st.cfg.log.Warn("forgot a component dead for too long", "component", e.name, "dead_for", now.Sub(e.lastAlive).Round(time.Second))
			r.remove(c, e)
			c.Request(st.bridge, &bridge.DeleteSession{Session: e.sid, Tag: e.name})
			return
		}
		// The probe counted what waits in the queue: an empty one is not read. With many
		// components dead (a host that crashed), reading each empty queue every probe
		// doubled the broker's work for them.
		if !gone && !e.draining && m.Messages > 0 {
			r.drain(c, e)
		}
	case registrantsTag:
		if m.Err == nil {
			st.registrants = m.Consumers
		}
	case lingerTag:
		l := st.lingering[tag.sid]
		if l == nil {
			return
		}
		l.probing = false
		if m.Err == nil && m.Consumers == 0 && st.bySid[tag.sid] == nil {
			l.draining = true
			c.Request(st.bridge, &bridge.Drain{Queue: wire.RecieveQueue(tag.sid), Max: drainBatch, Tag: tag})
		}
	case *regProbe:
		r.probedOwner(c, tag, m)
	}
}

// probedOwner decides a registration of a name already registered: refused while the
// name's queue has a consumer other than the registrant, accepted (the component
// restarted) otherwise. A registrant answered on its own queue consumes it already.
func (r *registryActor) probedOwner(c actor.Context, tag *regProbe, m *bridge.Probed) {
	st := r.st
	e := st.byName[tag.desc.Name]
	own := 0
	if onSession(tag.d) && e != nil && e.sid == wire.SessionID(e.name) {
		own = 1
	}
	if m.Err == nil && m.Consumers > own && e != nil {
		st.cfg.log.Warn("refused a registration of a name owned by a live component", "component", tag.desc.Name)
		r.answer(c, replyQueue(tag.desc.Name, tag.d), wire.RegistryName, tag.desc.Name, tag.env.MessageID,
			wire.ErrorsMessage("Component "+wire.PyString(tag.desc.Name)+" is already registered and alive (its queue "+
				wire.RecieveQueue(e.sid)+" has a consumer); stop it first or choose another name"), nil, tag.d)
		return
	}
	r.accept(c, e, tag.sid, tag.desc, tag.instance, tag.env, tag.d)
}

// drain takes what waits in a dead component's queue, so that its callers are answered
// now instead of waiting for their deadline (or, from Python, forever).
func (r *registryActor) drain(c actor.Context, e *entry) {
	e.draining = true
	c.Request(r.st.bridge, &bridge.Drain{Queue: wire.RecieveQueue(e.sid), Max: drainBatch, Tag: e.sid})
}

// drained answers every request taken from a dead component's queue with the not-alive
// error, on its sender's queue; answers addressed to the dead component are dropped.
func (r *registryActor) drained(c actor.Context, m *bridge.Drained) {
	st := r.st
	if tag, ok := m.Tag.(lingerTag); ok {
		r.drainedLeft(c, tag.sid, m)
		return
	}
	sid, _ := m.Tag.(string)
	e := st.bySid[sid]
	if e != nil {
		e.draining = false
	}
	now := time.Now()
	switch {
	case errors.Is(m.Err, bridge.ErrInUse):
		// It consumes its queue again (found dead by a probe that came while it was
		// away): what waits there is its own. The probe finds it alive.
		st.cfg.log.Info("left the requests of a component found dead to it: it consumes its queue again", "queue", m.Queue)
		if e != nil {
			r.probe(c, e, now)
		}
	case m.Err != nil && !errors.Is(m.Err, bridge.ErrUnsupported):
		st.cfg.log.Warn("cannot take the requests waiting for a dead component", "queue", m.Queue, "err", m.Err)
	}
	for _, msg := range m.Msgs {
		env, err := wire.Decode(msg.Body, st.cfg.maxBody)
		if err != nil || env.IsAnswer() {
			st.cfg.log.Debug("dropped a message waiting for a dead component", "queue", m.Queue, "err", err)
			continue
		}
		from := st.byName[env.Sender]
		if from == nil {
			st.cfg.log.Warn("a request waiting for a dead component has a sender that is not registered", "queue", m.Queue, "sender", env.Sender)
			continue
		}
		var msg wire.Object
		if e != nil {
			msg = notAlive(e, now)
		} else {
			msg = wire.ErrorsMessage(wire.NotAliveFor(env.Reciever, 0))
		}
		r.answer(c, wire.RecieveQueue(from.sid), wire.RegistryName, env.Sender, env.MessageID, msg, nil, nil)
	}
	if len(m.Msgs) > 0 {
		st.cfg.log.Warn("answered the requests waiting for a dead component", "queue", m.Queue, "requests", len(m.Msgs))
	}
	if e != nil && len(m.Msgs) == drainBatch && e.dead(now, &st.cfg) {
		r.drain(c, e)
	}
}

// drainedLeft answers every request taken from the queue of a component that left with a
// ComponentStoppedException, on its sender's queue: the component will not serve them.
func (r *registryActor) drainedLeft(c actor.Context, sid string, m *bridge.Drained) {
	st := r.st
	l := st.lingering[sid]
	name := ""
	if l != nil {
		l.draining = false
		name = l.name
	}
	switch {
	case errors.Is(m.Err, bridge.ErrInUse): // it is back: what waits is its own
		st.cfg.log.Info("left the requests of a component that left to it: its queue has a consumer again", "queue", m.Queue)
	case m.Err != nil && !errors.Is(m.Err, bridge.ErrUnsupported):
		st.cfg.log.Warn("cannot take the requests left for a component that left", "queue", m.Queue, "err", m.Err)
	}
	for _, msg := range m.Msgs {
		env, err := wire.Decode(msg.Body, st.cfg.maxBody)
		if err != nil || env.IsAnswer() {
			continue
		}
		from := st.byName[env.Sender]
		if from == nil {
			continue
		}
		if name == "" {
			name = env.Reciever
		}
		r.answer(c, wire.RecieveQueue(from.sid), wire.RegistryName, env.Sender, env.MessageID,
			wire.ErrorsMessage(wire.Exception(wire.Stopped(name, env.MessageID, env.Sender), wire.ComponentStoppedException,
				sid, name, env.MessageID, env.Message)), nil, nil)
	}
	if len(m.Msgs) > 0 {
		st.cfg.log.Warn("answered the requests left for a component that stopped", "component", name, "requests", len(m.Msgs))
	}
	if l != nil && len(m.Msgs) == drainBatch {
		l.draining = true
		c.Request(st.bridge, &bridge.Drain{Queue: m.Queue, Max: drainBatch, Tag: lingerTag{sid: sid}})
	}
}
