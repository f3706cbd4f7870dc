// Command atqbench prints every performance figure of issues 10 and 11 in one run, each
// against its baseline measured in the same run, and a summary of the targets:
//
//	go run ./internal/bench/cmd/atqbench [--amqp URL] [--parts inproc,rabbit,scale,burst] [options]
//
// The parts, in this order:
//
//   - inproc: in one process, no broker: a caller's Call to a summator over the embedded
//     transport against a bare protoactor request future, one at a time and with
//     --inflight at once, with this process's allocations per call.
//   - rabbit: over RabbitMQ, one call at a time and with --inflight at once: the bare
//     amqp091-go 4-hop relay without publisher confirms (the baseline of every target) and
//     with them (package bench), and a Go caller calling a Go summator directly (the
//     default), through the Go registry (direct calls off on both processes), and calling a
//     Python-style peer (internal/testkit/pypeer) through the registry. Every process is an
//     actor system of this process with its own connection.
//   - scale: a registry run as `atq registry` (its own process, so that its memory is its
//     own), a direct and a routed pair, and a host process (atqhost) that registers filler
//     components up to each of --scale; at each level the step's registration time, the
//     registry's memory (RSS from /proc, Go heap from its /metrics) and the serial call
//     latency on both routes, and of the bare relay without confirms on the same virtual
//     host (a reference: what the broker alone makes of the components there). The three
//     take turns, 100 calls at a time, and each one's figures pool its --scale-calls calls.
//   - burst: the same registry and pairs; --burst components register at once (--parallel
//     at a time) from a host process while both callers make calls one at a time: on a fresh
//     virtual host, then (the host killed, the registry having found its components dead)
//     again with the same names, their queues already there. Baselines, each fresh and
//     again: a bare amqp091-go client declaring the same queues --floor-parallel channels at
//     once; and bare clients making the AMQP operations of the same registrations, --parallel
//     at once (bench.BareRegistrations), with no caller, probe or description.
//
// Each part uses virtual hosts of its own (atqbench-<what>-<random>), made and deleted with
// rabbitmqctl, which must manage the broker of --amqp (whose own virtual host is not used).
// The atq and atqhost programs are built into a temporary folder first unless --bin names a
// folder that has them.
//
// Rounds (--rounds) interleave the contenders of inproc and rabbit, the order reversed every
// other round, so that a change in the machine's load hits them alike; each figure is the
// median round's (by p50 one at a time, by calls/s with many in flight).
//
// Output: on stdout one JSON line per measurement, every line an object whose first key is
// "mode"; the call measurements are laid out as
//
//	{"mode": "relay-serial", "calls": 1000, "calls_per_s": 812.3, "p50_ms": 1.1, "p99_ms": 2.5, "errors": 0, ...}
//
// and the last line is the summary ({"mode": "summary", "targets": [...]}). On stderr,
// progress and the summary for people. Exit status 1 when a call or a part failed, or with
// --strict when a target was missed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/at-technology/atqueue/internal/bench"
	"github.com/at-technology/atqueue/internal/cli"
)

func main() {
	os.Exit(cli.Main("atqbench", func(ctx context.Context, args []string) error {
		return run(ctx, args, os.Stdout, os.Stderr)
	}))
}

// parts are the parts in the order they run.
var parts = []string{"inproc", "rabbit", "scale", "burst"}

type config struct {
	url                    string
	parts                  map[string]bool
	rounds                 int
	serialN, concurrentN   int
	inflight               int
	inprocSerial, inprocN  int
	scale                  []int
	scaleCalls             int
	burst, parallel, floor int
	bin                    string
	verbose                bool
}

// benchRun is one run: where it prints, and what it found.
type benchRun struct {
	config
	out, errOut io.Writer
	log         *slog.Logger
	broker      int // the broker's pid, 0 when it is not on this machine
	tmp         string
	atq, host   string // the programs
	results     results
	notes       []string // figures beside the targets, for people
	failed      []error  // parts that failed and calls that failed
}

func run(ctx context.Context, args []string, out, errOut io.Writer) (err error) {
	fs := flag.NewFlagSet("atqbench", flag.ContinueOnError)
	fs.SetOutput(errOut)
	amqpURL := cli.AMQPFlag(fs)
	var c config
	only := fs.String("parts", strings.Join(parts, ","), "the parts to run, comma-separated")
	fs.IntVar(&c.rounds, "rounds", 3, "interleaved rounds of inproc and rabbit; each figure is the median round's")
	fs.IntVar(&c.serialN, "serial", 1000, "rabbit: calls one at a time, per contender and round")
	fs.IntVar(&c.concurrentN, "concurrent", 4000, "rabbit: calls with --inflight at once, per contender and round")
	fs.IntVar(&c.inflight, "inflight", 64, "calls in flight in the concurrent runs")
	fs.IntVar(&c.inprocSerial, "inproc-serial", 20000, "inproc: calls one at a time, per contender and round")
	fs.IntVar(&c.inprocN, "inproc-concurrent", 100000, "inproc: calls with --inflight at once, per contender and round")
	levels := fs.String("scale", "10,100,1000", "scale: components registered at each level, ascending (the first at least 4)")
	fs.IntVar(&c.scaleCalls, "scale-calls", 2000, "scale: serial calls per route and level")
	fs.IntVar(&c.burst, "burst", 1000, "burst: components that register at once")
	fs.IntVar(&c.parallel, "parallel", 64, "scale and burst: registrations at once")
	fs.IntVar(&c.floor, "floor-parallel", 64, "burst: channels of the bare client declaring the queues at once (as many as a transport's declare channels)")
	fs.StringVar(&c.bin, "bin", "", "`DIR` holding atq and atqhost already built (default: build them)")
	strict := fs.Bool("strict", false, "exit 1 when a target is missed")
	fs.BoolVar(&c.verbose, "verbose", false, "log the Go runtime's warnings and print every round on stderr")
	logs := cli.LogFlags(fs, slog.LevelError)
	if err := cli.Parse(fs, args, false); err != nil {
		return err
	}
	c.url = amqpURL.Raw()
	c.parts = map[string]bool{}
	for _, p := range strings.Split(*only, ",") {
		if p = strings.TrimSpace(p); !slices.Contains(parts, p) {
			return cli.Usagef("--parts: unknown part %q (the parts: %s)", p, strings.Join(parts, ", "))
		}
		c.parts[p] = true
	}
	for _, f := range strings.Split(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return cli.Usagef("--scale: %q is not a number", f)
		}
		c.scale = append(c.scale, n)
	}
	switch {
	case c.rounds < 1 || c.serialN < 1 || c.concurrentN < 1 || c.inflight < 1 || c.inprocSerial < 1 || c.inprocN < 1:
		return cli.Usagef("--rounds, --serial, --concurrent, --inflight, --inproc-serial and --inproc-concurrent must be at least 1")
	case c.scaleCalls < 1 || c.burst < 1 || c.parallel < 1 || c.floor < 1:
		return cli.Usagef("--scale-calls, --burst, --parallel and --floor-parallel must be at least 1")
	case c.scale[0] < bench.PairComponents || !slices.IsSorted(c.scale):
		return cli.Usagef("--scale %s: ascending, the first at least %d (the components of the two pairs)", *levels, bench.PairComponents)
	}

	b := &benchRun{config: c, out: out, errOut: errOut, broker: bench.BrokerPID(ctx), results: results{}}
	if c.verbose && logs.Level() > slog.LevelWarn {
		logs.SetLevel(slog.LevelWarn)
	}
	b.log = logs.Logger(errOut)
	load := bench.Load()
	b.line(bench.F("mode", "machine"), bench.F("load", load), bench.F("cores", runtime.NumCPU()),
		bench.F("gomaxprocs", runtime.GOMAXPROCS(0)), bench.F("go", runtime.Version()), bench.F("broker_pid", b.broker))
	b.say("atqbench: load %s (1, 5, 15 min) on %d cores; RabbitMQ at %s (pid %d); parts %s",
		load, runtime.NumCPU(), cli.MaskURL(c.url), b.broker, *only)

	if b.tmp, err = os.MkdirTemp("", "atqbench-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.tmp)
	if c.parts["scale"] || c.parts["burst"] {
		if err := b.programs(ctx); err != nil {
			return err
		}
	}
	for _, p := range parts {
		if !c.parts[p] || ctx.Err() != nil {
			continue
		}
		start := time.Now()
		var err error
		switch p {
		case "inproc":
			err = b.inproc(ctx)
		case "rabbit":
			err = b.rabbit(ctx)
		case "scale":
			err = b.scalePart(ctx)
		case "burst":
			err = b.burstPart(ctx)
		}
		if err != nil {
			b.failed = append(b.failed, fmt.Errorf("%s: %w", p, err))
			b.say("atqbench: %s failed: %v", p, err)
		}
		b.say("atqbench: %s took %v", p, time.Since(start).Round(100*time.Millisecond))
	}
	met := b.summary(load)
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted: %s", cli.Reason(ctx))
	case len(b.failed) > 0:
		return errors.Join(b.failed...)
	case *strict && !met:
		return errors.New("a target was missed")
	}
	return nil
}

// line prints one JSON line on stdout.
func (b *benchRun) line(fields ...bench.Field) { fmt.Fprintln(b.out, bench.Line(fields...)) }

// say prints one line for people on stderr.
func (b *benchRun) say(format string, args ...any) { fmt.Fprintf(b.errOut, format+"\n", args...) }

// sample prints a measurement and notes its failed calls.
func (b *benchRun) sample(s bench.Sample, extra ...bench.Field) {
	b.line(append(s.Fields(), extra...)...)
	b.calls(s.Stats)
}

// calls notes the failed calls of a measurement.
func (b *benchRun) calls(s bench.Stats) {
	if s.Errors > 0 {
		b.failed = append(b.failed, fmt.Errorf("%s: %d of %d calls failed; the first: %w", s.Mode, s.Errors, s.Calls, s.FirstErr))
	}
}

// programs builds atq and atqhost into b.tmp, unless --bin has them.
func (b *benchRun) programs(ctx context.Context) error {
	if b.bin != "" {
		b.atq, b.host = filepath.Join(b.bin, "atq"), filepath.Join(b.bin, "atqhost")
		for _, p := range []string{b.atq, b.host} {
			if _, err := os.Stat(p); err != nil {
				return fmt.Errorf("--bin: %w", err)
			}
		}
		return nil
	}
	goTool, err := exec.LookPath("go")
	if root := os.Getenv("GOROOT"); root != "" {
		goTool, err = filepath.Join(root, "bin", "go"), nil
	}
	if err != nil {
		return fmt.Errorf("building atq and atqhost: %w (or give --bin)", err)
	}
	start := time.Now()
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", b.tmp+string(filepath.Separator),
		"github.com/at-technology/atqueue/cmd/atq", "github.com/at-technology/atqueue/internal/bench/cmd/atqhost")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building atq and atqhost: %w\n%s", err, out)
	}
	b.atq, b.host = filepath.Join(b.tmp, "atq"), filepath.Join(b.tmp, "atqhost")
	b.say("atqbench: built atq and atqhost in %v", time.Since(start).Round(100*time.Millisecond))
	return nil
}

// vhosts makes the virtual hosts of a part; drop deletes them (also after ctx ended).
func (b *benchRun) vhosts(ctx context.Context, labels ...string) (vs []*bench.VHost, drop func() error, err error) {
	vs, err = bench.NewVHosts(ctx, b.url, labels...)
	if err != nil {
		return nil, nil, err
	}
	return vs, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		return bench.DeleteVHosts(ctx, vs...)
	}, nil
}
