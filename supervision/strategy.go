package supervision

import (
	"math"
	"slices"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// strategy implements actor.SupervisorStrategy for a Policy.
//
// HandleFailure runs on the supervisor's mailbox goroutine, timer callbacks on timer
// goroutines, and forget/close on the Tree actor's goroutine; mu guards everything mutable.
type strategy struct {
	policy Policy
	within time.Duration // normalised: > 0
	notify func(Event)

	mu     sync.Mutex
	groups map[any]*group // one-for-one: child PID id; all-for-one: the Supervisor
	closed bool           // set by close: every failure stops, no timers are started
	// own holds the policies of one-for-one children spawned with a policy of their own
	// (Tree.SpawnPolicy), by child PID id.
	own map[string]Policy
}

// group is the restart window of one child (one-for-one) or one supervisor (all-for-one).
type group struct {
	rs       *actor.RestartStatistics // incarnation of a one-for-one child; a new one resets failures
	failures []time.Time              // inside the window, oldest first
	timer    *time.Timer              // pending delayed restart, nil if none
	gen      uint64                   // identifies the current timer to its callback
	pending  []*actor.PID             // children the timer restarts
}

func newStrategy(p Policy, notify func(Event)) *strategy {
	p.MaxRestarts = max(p.MaxRestarts, 0)
	within := p.Within
	if within <= 0 {
		within = math.MaxInt64
	}
	return &strategy{policy: p, within: within, notify: notify, groups: make(map[any]*group), own: map[string]Policy{}}
}

// setPolicy gives child a policy of its own; only one-for-one strategies honour it.
func (s *strategy) setPolicy(child *actor.PID, p Policy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p.MaxRestarts = max(p.MaxRestarts, 0)
	s.own[child.Id] = p
}

// policyFor is the policy that governs child and its normalised window.
func (s *strategy) policyFor(child *actor.PID) (Policy, time.Duration) {
	s.mu.Lock()
	p, ok := s.own[child.Id]
	s.mu.Unlock()
	if !ok || s.policy.AllForOne {
		return s.policy, s.within
	}
	within := p.Within
	if within <= 0 {
		within = math.MaxInt64
	}
	return p, within
}

var _ actor.SupervisorStrategy = (*strategy)(nil)

// HandleFailure implements actor.SupervisorStrategy.
func (s *strategy) HandleFailure(system *actor.ActorSystem, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, reason, message any) {
	p, within := s.policyFor(child)
	ev := Event{Child: child, Reason: reason, Directive: decide(p, reason)}
	if ev.Directive == Escalate && s.isClosed() {
		ev.Directive = Stop
	}

	targets := []*actor.PID{child}
	if s.policy.AllForOne && (ev.Directive == Restart || ev.Directive == Stop) {
		targets = sup.Children()
	}

	if ev.Directive == Restart {
		s.countRestart(p, within, sup, child, rs, targets, &ev)
	}

	if ev.Directive != Escalate {
		system.EventStream.Publish(&actor.SupervisorEvent{Child: child, Reason: reason, Directive: ev.Directive.protoactor()})
	}
	if s.notify != nil {
		s.notify(ev)
	}

	switch ev.Directive {
	case Restart:
		if ev.Delay == 0 {
			sup.RestartChildren(targets...)
		}
	case Stop:
		sup.StopChildren(targets...)
	case Resume:
		sup.ResumeChildren(child)
	case Escalate:
		sup.EscalateFailure(reason, message)
	}
}

func decide(p Policy, reason any) Directive {
	if p.Decide == nil {
		return Restart
	}
	switch d := p.Decide(reason); d {
	case Restart, Stop, Escalate, Resume:
		return d
	default:
		return Stop
	}
}

// countRestart records the failure in the sliding window and turns ev into Stop when the
// intensity is exceeded, or sets ev.Delay and arms the restart timer when it is positive.
func (s *strategy) countRestart(p Policy, within time.Duration, sup actor.Supervisor, child *actor.PID, rs *actor.RestartStatistics, targets []*actor.PID, ev *Event) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.closed {
		ev.Directive = Stop
		return
	}
	now := time.Now()
	s.sweep(now)

	var key any = child.Id
	if s.policy.AllForOne {
		key = sup
	}
	g := s.groups[key]
	if g == nil {
		g = &group{rs: rs}
		s.groups[key] = g
	}
	if !s.policy.AllForOne && g.rs != rs {
		g.failures = g.failures[:0]
		g.rs = rs
	}
	g.failures = append(inWindow(now, within, g.failures), now)
	ev.Restarts = len(g.failures)

	if ev.Restarts > p.MaxRestarts {
		ev.Directive = Stop
		g.stopTimer()
		delete(s.groups, key)
		return
	}

	ev.Delay = p.Backoff.Delay(ev.Restarts)
	if ev.Delay == 0 {
		return
	}
	g.stopTimer()
	g.gen++
	g.pending = slices.Clone(targets)
	gen := g.gen
	g.timer = time.AfterFunc(ev.Delay, func() { s.fire(key, g, gen, sup) })
}

func (s *strategy) fire(key any, g *group, gen uint64, sup actor.Supervisor) {
	s.mu.Lock()
	if s.groups[key] != g || g.gen != gen || g.timer == nil {
		s.mu.Unlock()
		return
	}
	pids := g.pending
	g.pending, g.timer = nil, nil
	s.mu.Unlock()

	// RestartChildren only posts system messages; it is safe off the supervisor's goroutine.
	sup.RestartChildren(pids...)
}

// inWindow drops the failure times that are older than the window.
func inWindow(now time.Time, within time.Duration, failures []time.Time) []time.Time {
	i := 0
	for i < len(failures) && now.Sub(failures[i]) >= within {
		i++
	}
	return append(failures[:0], failures[i:]...)
}

// sweep forgets groups with no failure inside the window and no pending restart, so that
// children that ended without this strategy hearing of it do not accumulate.
func (s *strategy) sweep(now time.Time) {
	for key, g := range s.groups {
		within := s.within
		if id, ok := key.(string); ok {
			if p, ok := s.own[id]; ok && p.Within > 0 {
				within = p.Within
			}
		}
		g.failures = inWindow(now, within, g.failures)
		if g.timer == nil && len(g.failures) == 0 {
			delete(s.groups, key)
		}
	}
}

// forget drops what is known about a child that terminated and cancels its pending restart.
func (s *strategy) forget(child *actor.PID) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if g, ok := s.groups[child.Id]; ok {
		g.stopTimer()
		delete(s.groups, child.Id)
	}
	delete(s.own, child.Id)
	for _, g := range s.groups {
		g.pending = slices.DeleteFunc(g.pending, child.Equal)
	}
}

func (s *strategy) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// close cancels all pending restarts; afterwards every failure that would restart or
// escalate stops the child instead.
func (s *strategy) close() {
	s.mu.Lock()
	defer s.mu.Unlock()

	s.closed = true
	for key, g := range s.groups {
		g.stopTimer()
		delete(s.groups, key)
	}
}

func (g *group) stopTimer() {
	if g.timer != nil {
		g.timer.Stop()
		g.timer, g.pending = nil, nil
	}
}
