package component

import (
	"container/heap"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// DefaultCheckRate is how many registry checks the components of one process make per
// second at most (CheckPacerProps). Up to 300 components (15s × 20), each checks every
// WithRegistryCheck as it asked; beyond that, each checks less often.
const DefaultCheckRate = 20

// rushFactor is how much faster than its rate a pacer grants the checks that a
// forgotten component asks for (checkAllNow): a registry restarted without its state has
// forgotten every component of the process, and they should register again within
// seconds, not within a whole round.
const rushFactor = 10

// rushGap is how long after a rush further checkAllNow are ignored: each component that
// finds itself forgotten asks for one, and the first covers them all.
const rushGap = 10 * time.Second

// Messages of the pacer. Each carries the component's PID.
type (
	// checkAt asks for a checkDue to pid once after has passed (and the rate allows).
	checkAt struct {
		pid   *actor.PID
		after time.Duration
	}
	// checkOff forgets pid: it stops.
	checkOff struct{ pid *actor.PID }
	// checkAllNow: a component found the registry had forgotten it; check every other
	// component of the process now.
	checkAllNow struct{}
	// paceTick is the pacer's timer.
	paceTick struct{ gen int }
)

// CheckPacerProps returns the props of the actor that paces the registry checks of the
// components of one process (Runtime.Checks): no more than rate a second, however many
// components the process holds. Each check is a passive declare (or a question to the
// registry); 1,000 components checking every 15s on their own made 67 a second, more than
// the registry's own liveness probes, and slowed every call on the broker. A component
// that finds itself forgotten has every other component checked within seconds
// (rate × 10 a second), as a registry restarted without its state forgot them all.
func CheckPacerProps(rate float64) *actor.Props {
	if rate <= 0 {
		rate = DefaultCheckRate
	}
	return actor.PropsFromProducer(func() actor.Actor {
		return &pacer{rate: rate, at: map[string]*dueCheck{}}
	})
}

// pacer grants checkDue to the components whose check is due, as its token bucket allows.
type pacer struct {
	rate     float64
	due      dueHeap              // waiting checks, soonest first
	at       map[string]*dueCheck // by PID
	tokens   float64
	last     time.Time // when tokens was last topped up
	rush     int       // checks still to grant at the rush rate
	rushedAt time.Time

	self  *actor.PID
	sys   *actor.ActorSystem
	timer *time.Timer
	gen   int
}

type dueCheck struct {
	pid   *actor.PID
	when  time.Time
	index int
}

func (p *pacer) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started:
		p.self, p.sys, p.last, p.tokens = c.Self(), c.ActorSystem(), time.Now(), 1
	case *actor.Stopping:
		if p.timer != nil {
			p.timer.Stop()
		}
	case *checkAt:
		key := m.pid.String()
		when := time.Now().Add(m.after)
		if d := p.at[key]; d != nil {
			d.when = when
			heap.Fix(&p.due, d.index)
		} else {
			d = &dueCheck{pid: m.pid, when: when}
			p.at[key] = d
			heap.Push(&p.due, d)
		}
		p.grant(c)
	case *checkOff:
		if d := p.at[m.pid.String()]; d != nil {
			heap.Remove(&p.due, d.index)
			delete(p.at, m.pid.String())
		}
	case *checkAllNow:
		now := time.Now()
		if !p.rushedAt.IsZero() && now.Sub(p.rushedAt) < rushGap {
			return
		}
		p.rushedAt, p.rush = now, len(p.due)
		for _, d := range p.due {
			d.when = now
		}
		heap.Init(&p.due)
		p.grant(c)
	case *paceTick:
		if m.gen == p.gen {
			p.timer = nil
			p.grant(c)
		}
	}
}

// grant sends checkDue to every component whose check is due, while tokens last, and
// sets the timer for the next one.
func (p *pacer) grant(c actor.Context) {
	now := time.Now()
	rate := p.rate
	if p.rush > 0 {
		rate *= rushFactor
	}
	p.tokens = min(p.tokens+now.Sub(p.last).Seconds()*rate, max(1, rate))
	p.last = now
	for len(p.due) > 0 && p.tokens >= 1 && !p.due[0].when.After(now) {
		d := heap.Pop(&p.due).(*dueCheck)
		delete(p.at, d.pid.String())
		c.Send(d.pid, &checkDue{})
		p.tokens--
		if p.rush > 0 {
			p.rush--
		}
	}
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	if len(p.due) == 0 {
		return
	}
	wait := p.due[0].when.Sub(now)
	if p.tokens < 1 {
		wait = max(wait, time.Duration((1-p.tokens)/rate*float64(time.Second)))
	}
	p.gen++
	self, sys, gen := p.self, p.sys, p.gen
	p.timer = time.AfterFunc(wait, func() { sys.Root.Send(self, &paceTick{gen: gen}) })
}

// dueHeap orders the waiting checks by when they are due.
type dueHeap []*dueCheck

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].when.Before(h[j].when) }
func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *dueHeap) Push(x any) {
	d := x.(*dueCheck)
	d.index = len(*h)
	*h = append(*h, d)
}
func (h *dueHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return d
}
