package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// PairComponents is how many components the two pairs of Scale and Burst register
// (a caller and a summator each).
const PairComponents = 4

// Scale is the scale measurement: a registry, two pairs (Direct and Routed) and a host
// of filler components on one virtual host with nothing else.
type Scale struct {
	URL      string // the virtual host
	Atq      string // the atq program
	Host     string // the atqhost program
	State    string // the registry's state file
	Broker   int    // the broker's pid, 0 if unknown
	Levels   []int  // components registered, ascending; each ≥ PairComponents
	Calls    int    // serial calls per route and level
	Parallel int    // registrations at once
}

// ScaleLevel is what Scale measured at one level.
type ScaleLevel struct {
	Registered     int            // components the benchmark registered: the pairs' and the fillers'
	Step           HostStep       // the fillers' registrations that reached this level
	BrokerCores    float64        // CPU during the step, in cores (-1: unknown)
	RegistryCores  float64        //
	MachineCores   float64        // the whole machine's, others' included
	Memory         RegistryMemory // after the calls
	Direct, Routed Sample         // Calls serial calls each
	// Relay is the bare amqp091 relay without confirms on the same virtual host: what the
	// broker alone makes of the components registered there.
	Relay Sample
}

// Run measures every level in turn and hands each to each as soon as it is done.
func (s Scale) Run(ctx context.Context, each func(ScaleLevel)) (err error) {
	if len(s.Levels) == 0 || s.Levels[0] < PairComponents || !slices.IsSorted(s.Levels) {
		return fmt.Errorf("scale levels %v: ascending, each at least %d", s.Levels, PairComponents)
	}
	reg, err := StartRegistryProc(ctx, s.Atq, s.URL, s.State)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, reg.Stop()) }()
	pairs, err := startPairs(ctx, s.URL)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closePairs(pairs)) }()
	relay, err := Start(ctx, s.URL, WithoutConfirms())
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, relay.Close()) }()
	host, err := StartHost(ctx, s.Host, s.URL, "Filler", s.Parallel)
	if err != nil {
		return err
	}
	defer host.Kill() // as a crash: 1,000 components need not leave one by one
	for _, level := range s.Levels {
		u := StartUsage(s.Broker, reg.Pid())
		step, err := host.Register(ctx, level-PairComponents)
		if err != nil {
			return err
		}
		cores := u.Cores()
		l := ScaleLevel{Registered: level, Step: step, BrokerCores: cores[0], RegistryCores: cores[1], MachineCores: u.Machine()}
		if _, err := reg.AwaitComponents(ctx, level, gaugeWait); err != nil {
			return err
		}
		prefix := fmt.Sprintf("scale%d", level)
		cs := []Contender{{Mode: prefix + "-relay-serial", N: s.Calls, Inflight: 1, Call: relay.Call}}
		for _, p := range pairs {
			cs = append(cs, Contender{Mode: prefix + "-" + string(p.Route) + "-serial", N: s.Calls, Inflight: 1, Call: p.Call})
		}
		ss := Interleave(ctx, scaleChunk, s.Broker, cs)
		l.Relay, l.Direct, l.Routed = ss[0], ss[1], ss[2]
		if err := ctx.Err(); err != nil {
			return err
		}
		if l.Memory, err = reg.Memory(ctx); err != nil {
			return err
		}
		each(l)
	}
	return nil
}

// startPairs starts a Direct and a Routed pair on the registry of url.
func startPairs(ctx context.Context, url string) ([]*Pair, error) {
	var pairs []*Pair
	for _, r := range []Route{Direct, Routed} {
		p, err := StartPair(ctx, url, r)
		if err != nil {
			return nil, errors.Join(err, closePairs(pairs))
		}
		pairs = append(pairs, p)
		if s := Measure(ctx, "warmup", Warmup, 1, p.Call); s.Errors > 0 {
			return nil, errors.Join(fmt.Errorf("%s warm-up: %w", r, s.FirstErr), closePairs(pairs))
		}
	}
	return pairs, nil
}

func closePairs(pairs []*Pair) error {
	var errs []error
	for _, p := range pairs {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}

const (
	// scaleChunk is how many calls a route of Scale makes before the next route's turn.
	scaleChunk = 100
	// pollEvery is how often a condition on the registry is checked.
	pollEvery = 250 * time.Millisecond
	// gaugeWait bounds the wait for the registry's gauges to count what registered.
	gaugeWait = 10 * time.Second
)
