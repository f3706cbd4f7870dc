package supervision

import (
	"fmt"
	"math"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Directive is what a supervisor does with a failed child.
type Directive int

const (
	// Restart replaces the child's actor with a fresh instance (after the backoff delay),
	// subject to the restart intensity. It is the zero value.
	Restart Directive = iota
	// Stop stops the child for good.
	Stop
	// Escalate fails the supervisor itself, so its own parent decides.
	Escalate
	// Resume keeps the child's actor and state and continues with its next message.
	Resume
)

func (d Directive) String() string {
	switch d {
	case Restart:
		return "restart"
	case Stop:
		return "stop"
	case Escalate:
		return "escalate"
	case Resume:
		return "resume"
	default:
		return fmt.Sprintf("Directive(%d)", int(d))
	}
}

func (d Directive) protoactor() actor.Directive {
	switch d {
	case Restart:
		return actor.RestartDirective
	case Escalate:
		return actor.EscalateDirective
	case Resume:
		return actor.ResumeDirective
	default:
		return actor.StopDirective
	}
}

// Policy says what happens when a supervised child fails.
//
// The zero Policy is valid and stops a child on its first failure.
type Policy struct {
	MaxRestarts int           // restart intensity: at most this many restarts ...
	Within      time.Duration // ... within this sliding window; one more failure stops the child for good
	Backoff     Backoff       // delay before each restart; restart number n is the failure count in the window
	// Decide classifies a failure (the recovered panic value). Nil means Restart for everything.
	// It runs on the supervisor's goroutine, must not block and must not panic.
	// A value that is not a known Directive is treated as Stop.
	Decide func(reason any) Directive
	// AllForOne restarts or stops all children of the supervisor when one fails, and counts
	// the restart intensity for the supervisor as a whole. The default is one-for-one:
	// only the failed child is affected and intensity is counted per child.
	AllForOne bool
}

// DefaultPolicy is one-for-one, 5 restarts within 10s, backoff 10ms..1s, x2, jitter 0.5.
func DefaultPolicy() Policy {
	return Policy{
		MaxRestarts: 5,
		Within:      10 * time.Second,
		Backoff: Backoff{
			Initial:    10 * time.Millisecond,
			Max:        time.Second,
			Multiplier: 2,
			Jitter:     0.5,
		},
	}
}

// Validate reports the first out-of-range value as an error wrapping ErrInvalidPolicy.
func (p Policy) Validate() error {
	b := p.Backoff
	switch {
	case p.MaxRestarts < 0:
		return fmt.Errorf("%w: MaxRestarts %d is negative", ErrInvalidPolicy, p.MaxRestarts)
	case p.Within < 0:
		return fmt.Errorf("%w: Within %v is negative", ErrInvalidPolicy, p.Within)
	case p.MaxRestarts > 0 && p.Within == 0:
		return fmt.Errorf("%w: MaxRestarts %d needs a positive Within", ErrInvalidPolicy, p.MaxRestarts)
	case b.Initial < 0:
		return fmt.Errorf("%w: Backoff.Initial %v is negative", ErrInvalidPolicy, b.Initial)
	case b.Max < 0:
		return fmt.Errorf("%w: Backoff.Max %v is negative", ErrInvalidPolicy, b.Max)
	case math.IsNaN(b.Multiplier) || b.Multiplier < 0 || (b.Multiplier > 0 && b.Multiplier < 1):
		return fmt.Errorf("%w: Backoff.Multiplier %v is not 0 or >= 1", ErrInvalidPolicy, b.Multiplier)
	case math.IsNaN(b.Jitter) || b.Jitter < 0 || b.Jitter > 1:
		return fmt.Errorf("%w: Backoff.Jitter %v is outside [0, 1]", ErrInvalidPolicy, b.Jitter)
	}
	return nil
}

// Event is reported for every decision, so the runtime can log, count, and deregister.
type Event struct {
	Child     *actor.PID // the child that failed
	Reason    any        // the recovered panic value
	Directive Directive  // what was done; Stop when the restart intensity was exceeded
	// Restarts is the failure count inside the window, including this one. It is counted
	// only for failures Decide sends to Restart; other directives report 0.
	Restarts int
	Delay    time.Duration // backoff before the restart; 0 unless Directive is Restart
}

// Strategy turns p into a protoactor SupervisorStrategy, for actor.WithSupervisor on the
// props of the parent whose children it governs. It does not validate p (call Validate);
// out-of-range values are clamped.
//
// notify (may be nil) is called synchronously for each decision, before it is carried out,
// on the failing child's supervisor goroutine; it must not block. When the intensity is
// exceeded the child (all children under AllForOne) is stopped and notify gets Directive Stop.
//
// A delayed restart runs on a time.AfterFunc timer. One strategy value may serve several
// supervisors concurrently.
func (p Policy) Strategy(notify func(Event)) actor.SupervisorStrategy {
	return newStrategy(p, notify)
}
