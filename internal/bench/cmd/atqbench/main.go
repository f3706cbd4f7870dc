// Command atqbench measures, in one run against one broker, (a) the bare amqp091-go relay
// baseline of package bench and (b) a Go caller → Go registry → Go summator call over
// RabbitMQ (three actor systems in this process, each with its own connection, all over
// the real broker), one call at a time and with many in flight, and prints both and their
// ratios against the targets: concurrent calls/s ≥ 0.8× the relay's, serial p50 ≤ 1.25×
// the relay's.
//
//	go run ./internal/bench/cmd/atqbench [--amqp URL] [--serial N] [--concurrent N] [--inflight C] [--rounds R] [--strict]
//
// Both sides are set up first and warmed up; then R rounds interleave them (relay, Go,
// then Go, relay, ...), so that a change in the machine's load hits both alike. Each
// figure is the median round's.
//
// Use a virtual host where no other registry runs: the registry's queue names are fixed by
// the protocol. Output: one JSON line per measurement (modes relay-serial,
// relay-concurrent<C>, atq-serial, atq-concurrent<C>), one JSON line of ratios, then a
// summary for people on stderr. Exit status 1 when a call failed, or with --strict when a
// target was missed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"

	"github.com/at-technology/atqueue/actors"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/examples/seed"
	"github.com/at-technology/atqueue/internal/bench"
	"github.com/at-technology/atqueue/internal/cli"
	"github.com/at-technology/atqueue/wire"
	"github.com/google/uuid"
)

// The targets of the issue, as ratios to the relay baseline.
const (
	concurrentTarget = 0.8  // Go calls/s with C in flight ≥ this × the relay's
	serialTarget     = 1.25 // Go serial p50 ≤ this × the relay's
)

func main() {
	os.Exit(cli.Main("atqbench", func(ctx context.Context, args []string) error {
		return run(ctx, args, os.Stdout, os.Stderr)
	}))
}

type config struct {
	serialN, concurrentN, inflight, rounds int
}

func run(ctx context.Context, args []string, out, errOut io.Writer) (err error) {
	fs := flag.NewFlagSet("atqbench", flag.ContinueOnError)
	fs.SetOutput(errOut)
	amqpURL := cli.AMQPFlag(fs)
	var c config
	fs.IntVar(&c.serialN, "serial", 1000, "calls made one at a time, per round")
	fs.IntVar(&c.concurrentN, "concurrent", 4000, "calls made with --inflight at once, per round")
	fs.IntVar(&c.inflight, "inflight", 64, "calls in flight in the concurrent runs")
	fs.IntVar(&c.rounds, "rounds", 3, "interleaved rounds; each figure is the median round's")
	strict := fs.Bool("strict", false, "exit 1 when a target is missed")
	verbose := fs.Bool("v", false, "log the Go runtime's info records and print every round")
	if err := cli.Parse(fs, args, false); err != nil {
		return err
	}
	if c.serialN < 1 || c.concurrentN < 1 || c.inflight < 1 || c.rounds < 1 {
		return cli.Usagef("--serial, --concurrent, --inflight and --rounds must be at least 1")
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := cli.Logger(errOut, level)
	fmt.Fprintf(errOut, "atqbench: %s; %d rounds of %d serial calls and %d calls with %d in flight, after %d warm-up calls\n",
		amqpURL, c.rounds, c.serialN, c.concurrentN, c.inflight, bench.Warmup)

	base, err := bench.Start(ctx, amqpURL.Raw())
	if err != nil {
		return fmt.Errorf("relay baseline: %w", err)
	}
	defer func() { err = errors.Join(err, base.Close()) }()
	goCall, stopGo, err := startGo(ctx, amqpURL.Raw(), log)
	if err != nil {
		return fmt.Errorf("the Go runtime: %w", err)
	}
	defer func() { err = errors.Join(err, stopGo()) }()
	for name, call := range map[string]func(context.Context) error{"relay": base.Call, "the Go runtime": goCall} {
		if s := bench.Measure(ctx, "warmup", bench.Warmup, 1, call); s.Errors > 0 {
			return fmt.Errorf("%s warm-up: %w", name, s.FirstErr)
		}
	}

	conc := "concurrent" + strconv.Itoa(c.inflight)
	var rs, rc, gs, gc []bench.Stats
	for i := range c.rounds {
		relaySerial := func() { rs = append(rs, bench.Measure(ctx, "relay-serial", c.serialN, 1, base.Call)) }
		goSerial := func() { gs = append(gs, bench.Measure(ctx, "atq-serial", c.serialN, 1, goCall)) }
		relayConc := func() { rc = append(rc, bench.Measure(ctx, "relay-"+conc, c.concurrentN, c.inflight, base.Call)) }
		goConc := func() { gc = append(gc, bench.Measure(ctx, "atq-"+conc, c.concurrentN, c.inflight, goCall)) }
		steps := []func(){relaySerial, goSerial, relayConc, goConc}
		if i%2 == 1 {
			steps = []func(){goSerial, relaySerial, goConc, relayConc}
		}
		for _, step := range steps {
			step()
		}
		if *verbose {
			for _, s := range [][]bench.Stats{rs, gs, rc, gc} {
				fmt.Fprintf(errOut, "round %d: %s\n", i+1, s[i].JSON())
			}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: %s", cli.Reason(ctx))
		}
	}
	relaySerial, goSerial := median(rs, p50), median(gs, p50)
	relayConc, goConc := median(rc, perSecond), median(gc, perSecond)
	for _, s := range []bench.Stats{relaySerial, relayConc, goSerial, goConc} {
		fmt.Fprintln(out, s.JSON())
	}

	cRatio := goConc.PerSecond() / relayConc.PerSecond()
	sRatio := float64(goSerial.P50) / float64(relaySerial.P50)
	met := cRatio >= concurrentTarget && sRatio <= serialTarget
	fmt.Fprintf(out, `{"concurrent_ratio": %.3f, "concurrent_target": %v, "serial_p50_ratio": %.3f, "serial_p50_target": %v, "met": %v}`+"\n",
		cRatio, concurrentTarget, sRatio, serialTarget, met)
	fmt.Fprintf(errOut, "relay: serial p50 %.3f ms (%.0f calls/s); %d in flight: %.0f calls/s\n",
		p50(relaySerial), relaySerial.PerSecond(), c.inflight, relayConc.PerSecond())
	fmt.Fprintf(errOut, "Go:    serial p50 %.3f ms (%.0f calls/s); %d in flight: %.0f calls/s\n",
		p50(goSerial), goSerial.PerSecond(), c.inflight, goConc.PerSecond())
	fmt.Fprintf(errOut, "Go/relay: concurrent %.2f× (target ≥ %v×) %s; serial p50 %.2f× (target ≤ %v×) %s\n",
		cRatio, concurrentTarget, verdict(cRatio >= concurrentTarget), sRatio, serialTarget, verdict(sRatio <= serialTarget))

	var failed int
	var errs []error
	for _, s := range slices.Concat(rs, rc, gs, gc) {
		failed += s.Errors
		if s.FirstErr != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Mode, s.FirstErr))
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d calls failed: %w", failed, errors.Join(errs...))
	}
	if *strict && !met {
		return errors.New("a target was missed")
	}
	return nil
}

func p50(s bench.Stats) float64       { return float64(s.P50.Microseconds()) / 1000 }
func perSecond(s bench.Stats) float64 { return s.PerSecond() }

// median is the round whose key is the median, with the errors of all rounds.
func median(rounds []bench.Stats, key func(bench.Stats) float64) bench.Stats {
	sorted := slices.Clone(rounds)
	slices.SortFunc(sorted, func(a, b bench.Stats) int {
		switch ka, kb := key(a), key(b); {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	m := sorted[len(sorted)/2]
	m.Errors = 0
	for _, s := range rounds {
		m.Errors += s.Errors
	}
	return m
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// startGo runs the registry, a summator and a requester in three actor systems, each on
// its own connection (as three processes would), and returns the requester's call of
// int_sum(5, 18). The two components get names unique to this run, so that messages left
// in the queues of earlier runs cannot interfere; stop deletes their queues.
func startGo(ctx context.Context, url string, log *slog.Logger) (call func(context.Context) error, stop func() error, err error) {
	suffix := uuid.NewString()[:8]
	summator := component.New("BenchSummator-" + suffix)
	component.Method(summator, "int_sum", func(_ context.Context, in seed.SumArgs) (int, error) { return in.A + in.B, nil })
	requester := component.New("BenchRequester-" + suffix)

	var (
		systems []*actors.System
		queues  []string
	)
	stop = func() error {
		var errs []error
		for i := len(systems) - 1; i >= 0; i-- {
			errs = append(errs, cli.Stop(systems[i], nil))
		}
		if len(queues) > 0 {
			errs = append(errs, bench.DeleteQueues(url, queues...))
		}
		return errors.Join(errs...)
	}
	fail := func(err error) (func(context.Context) error, func() error, error) {
		return nil, nil, errors.Join(err, stop())
	}
	newSystem := func(name string) (*actors.System, error) {
		sys, err := cli.Connect(ctx, url, log, amqpbridge.WithConnectionName("atqbench-"+name))
		if err != nil {
			return nil, err
		}
		systems = append(systems, sys)
		return sys, nil
	}
	start, cancel := context.WithTimeout(ctx, 3*cli.StartTimeout)
	defer cancel()
	reg, err := newSystem("registry")
	if err != nil {
		return fail(err)
	}
	if _, err := reg.StartRegistry(start); err != nil {
		return fail(err)
	}
	var req *component.Handle
	for _, def := range []*component.Component{summator, requester} {
		sys, err := newSystem(def.Name())
		if err != nil {
			return fail(err)
		}
		if req, err = sys.Spawn(start, def); err != nil {
			return fail(err)
		}
		queues = append(queues, wire.SendQueue(req.SessionID()), wire.RecieveQueue(req.SessionID()))
	}
	call = func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, bench.CallTimeout)
		defer cancel()
		var sum int
		if err := req.Call(ctx, summator.Name(), "int_sum", seed.SumArgs{A: 5, B: 18}, &sum); err != nil {
			return err
		}
		if sum != 23 {
			return fmt.Errorf("int_sum(5, 18) returned %d", sum)
		}
		return nil
	}
	return call, stop, nil
}
