package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/at-technology/atqueue/actors"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/examples/seed"
	"github.com/at-technology/atqueue/internal/cli"
	"github.com/at-technology/atqueue/internal/testkit/pypeer"
	"github.com/at-technology/atqueue/wire"
)

// Route is how a Go caller reaches the summator it calls over RabbitMQ.
type Route string

const (
	// Direct: Go caller → Go summator on the summator's own queue, the answer on the
	// caller's (actors.WithDirectCalls(true), the default).
	Direct Route = "direct"
	// Routed: Go caller → Go registry → Go summator and back, with
	// actors.WithDirectCalls(false) on the caller's and the summator's process.
	Routed Route = "routed"
	// Python: Go caller → Go registry → a peer that plays a Python at_queue component at
	// the AMQP level (internal/testkit/pypeer) and back; calls to Python peers always take
	// the registry's route.
	Python Route = "python"
)

// Pair is a caller and the summator it calls over RabbitMQ, each in a process of its own
// as far as the broker can tell (an actor system, or the Python-style peer, with its own
// connection). Its Call is safe for concurrent use; Close it.
type Pair struct {
	Route  Route
	caller *component.Handle
	target string
	stops  []func() error // in start order; Close runs them backwards
}

// PairOption changes StartPair.
type PairOption func(*pairConfig)

type pairConfig struct {
	registry bool
	log      *slog.Logger
}

// WithOwnRegistry starts a Go registry (in an actor system of its own) before the two
// components: for a virtual host that has none.
func WithOwnRegistry() PairOption { return func(c *pairConfig) { c.registry = true } }

// WithLog sets where the actor systems log (default: nowhere).
func WithLog(l *slog.Logger) PairOption { return func(c *pairConfig) { c.log = l } }

// SumArgs are int_sum's arguments as the benchmarks send them.
type SumArgs = seed.SumArgs

// Summator defines a component called name whose int_sum adds two ints: the target of
// every Go benchmark (seed.IntSummator adds big integers, which costs more than the
// runtime under test).
func Summator(name string) *component.Component {
	c := component.New(name)
	component.Method(c, "int_sum", func(_ context.Context, in SumArgs) (int, error) { return in.A + in.B, nil })
	return c
}

// StartPair registers Summator-<route> (or, for Python, PySummator-python) and
// Caller-<route> on the broker at url, whose registry must serve unless WithOwnRegistry.
func StartPair(ctx context.Context, url string, route Route, opts ...PairOption) (_ *Pair, err error) {
	cfg := pairConfig{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(&cfg)
	}
	p := &Pair{Route: route}
	defer func() {
		if err != nil {
			err = errors.Join(fmt.Errorf("%s pair: %w", route, err), p.Close())
		}
	}()
	newSystem := func(name string, sysOpts ...actors.Option) (*actors.System, error) {
		sys, err := cli.ConnectSystem(ctx, url, cfg.log, []amqpbridge.Option{amqpbridge.WithConnectionName("atqbench-" + name)}, sysOpts...)
		if err != nil {
			return nil, err
		}
		p.stops = append(p.stops, func() error { return cli.Stop(sys, nil) })
		return sys, nil
	}
	start, cancel := context.WithTimeout(ctx, 3*cli.StartTimeout)
	defer cancel()
	if cfg.registry {
		reg, err := newSystem("registry-" + string(route))
		if err != nil {
			return nil, err
		}
		if _, err := reg.StartRegistry(start); err != nil {
			return nil, err
		}
	}
	direct := actors.WithDirectCalls(route != Routed)
	switch route {
	case Direct, Routed:
		p.target = "Summator-" + string(route)
		sys, err := newSystem(p.target, direct)
		if err != nil {
			return nil, err
		}
		if _, err := sys.Spawn(start, Summator(p.target)); err != nil {
			return nil, err
		}
	case Python:
		p.target = "PySummator-" + string(route)
		peer, err := pypeer.Register(start, url, pypeer.RegisterBody(p.target, wire.NewID()), pypeer.Since6ddd4b0,
			map[string]pypeer.Method{"int_sum": pypeer.IntSum})
		if err != nil {
			return nil, err
		}
		p.stops = append(p.stops, peer.Close)
	default:
		return nil, fmt.Errorf("unknown route %q", route)
	}
	name := "Caller-" + string(route)
	sys, err := newSystem(name, direct)
	if err != nil {
		return nil, err
	}
	if p.caller, err = sys.Spawn(start, component.New(name)); err != nil {
		return nil, err
	}
	return p, nil
}

// Call makes one int_sum(5, 18) call within CallTimeout and checks that it returned 23.
func (p *Pair) Call(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	var sum int
	if err := p.caller.Call(ctx, p.target, "int_sum", SumArgs{A: 5, B: 18}, &sum); err != nil {
		return err
	}
	if sum != 23 {
		return fmt.Errorf("int_sum(5, 18) returned %d", sum)
	}
	return nil
}

// Close stops the caller, the summator and the registry, in that order, and waits for
// them; later calls do nothing.
func (p *Pair) Close() error {
	var errs []error
	for i := len(p.stops) - 1; i >= 0; i-- {
		errs = append(errs, p.stops[i]())
	}
	p.stops = nil
	return errors.Join(errs...)
}
