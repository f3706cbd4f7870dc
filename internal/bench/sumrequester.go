package bench

// The requester with every option that examples/sumrequester had before it became the
// seed's plain requester. That example runs this one (RequesterMain) whenever it is given
// any option but --amqp, so that the command lines scripts use keep working:
//
//	go run ./examples/sumrequester [--amqp URL] [--target NAME] [--timeout D] [--retry]
//	go run ./examples/sumrequester --bench N [--concurrency C]
//
// It registers SumRequester with the registry over RabbitMQ, calls int_sum on the target
// (IntSummator by default) with {"a": 5, "b": 18} and with {"a": 5, "b": "b"}, prints
// both outcomes and exits 0 only when the first returned 23 and the second was refused
// as invalid arguments.
//
// With --bench it instead makes N calls one at a time, then 2N calls with C in flight,
// and prints one JSON line per run:
//
//	{"mode": "serial", "calls": 1000, "calls_per_s": 812.3, "p50_ms": 1.1, "p99_ms": 2.5, "errors": 0}
//
// and exits non-zero if any call failed. With --retry a call that timed out, lost the
// connection, or found its target unknown or not alive (a component or registry being
// restarted) is tried again, with the same arguments, until its --timeout; "errors"
// then counts only the calls that still failed on their last try, and the number of
// tries that were repeated is logged on stderr at the end.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/at-technology/atqueue/bridge"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/examples/seed"
	"github.com/at-technology/atqueue/internal/cli"
)

// RequesterOptions reports whether args (a command line without the program's name) hold
// anything but --amqp URL, the only option of the seed's plain requester: then
// examples/sumrequester hands them to RequesterMain.
func RequesterOptions(args []string) bool {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case (a == "-amqp" || a == "--amqp") && i+1 < len(args):
			i++
		case strings.HasPrefix(a, "-amqp=") || strings.HasPrefix(a, "--amqp="):
		default:
			return true
		}
	}
	return false
}

// RequesterMain runs the requester on the command line in os.Args until it is done or
// SIGINT or SIGTERM ends it, and returns its exit status for os.Exit.
func RequesterMain() int {
	return cli.Main("sumrequester", func(ctx context.Context, args []string) error {
		return runRequester(ctx, args, os.Stdout, os.Stderr)
	})
}

type requesterOptions struct {
	target      string
	timeout     time.Duration
	retry       bool
	benchN      int
	concurrency int
}

func runRequester(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("sumrequester", flag.ContinueOnError)
	fs.SetOutput(errOut)
	amqpURL := cli.AMQPFlag(fs)
	durable := cli.DurableFlag(fs)
	var o requesterOptions
	fs.StringVar(&o.target, "target", "IntSummator", "`NAME` of the component to call")
	fs.DurationVar(&o.timeout, "timeout", 10*time.Second, "deadline of one call")
	fs.BoolVar(&o.retry, "retry", false, "retry a call that timed out, lost the connection or found its target unknown or not alive, until its --timeout")
	fs.IntVar(&o.benchN, "bench", 0, "benchmark instead: `N` calls one at a time, then 2N with --concurrency in flight")
	fs.IntVar(&o.concurrency, "concurrency", 64, "calls in flight in the concurrent --bench run")
	logs := cli.LogFlags(fs, slog.LevelWarn)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: sumrequester [--amqp URL] [--target NAME] [--timeout D] [--retry] [--bench N [--concurrency C]]\n\n"+
			"Calls int_sum on the target over RabbitMQ; the registry and the target must be running.\n\n")
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, false); err != nil {
		return err
	}
	switch {
	case o.benchN < 0:
		return cli.Usagef("--bench must be positive")
	case o.concurrency < 1:
		return cli.Usagef("--concurrency must be at least 1")
	case o.timeout <= 0:
		return cli.Usagef("--timeout must be positive")
	}
	log := logs.Logger(errOut)

	sys, err := cli.Connect(ctx, amqpURL.Raw(), log, append(durable.Options(), amqpbridge.WithConnectionName("sumrequester"))...)
	if err != nil {
		return err
	}
	start, cancel := context.WithTimeout(ctx, cli.StartTimeout)
	defer cancel()
	h, err := sys.Spawn(start, seed.SumRequester())
	if err != nil {
		return cli.Stop(sys, cli.Registering(err))
	}
	fmt.Fprintf(out, "%s registered, session %s\n", h.Name(), h.SessionID())

	r := requester{h: h, log: log, requesterOptions: o, retries: new(atomic.Int64)}
	if o.benchN > 0 {
		err = r.bench(ctx, out)
	} else {
		err = r.seed(ctx, out)
	}
	return cli.Stop(sys, err)
}

type requester struct {
	requesterOptions
	h       *component.Handle
	log     *slog.Logger
	retries *atomic.Int64 // tries repeated by --retry
}

// seed makes the two calls of the seed example.
func (r requester) seed(ctx context.Context, out io.Writer) error {
	good := map[string]any{"a": 5, "b": 18}
	var sum int
	err1 := r.sum(ctx, good, &sum)
	switch {
	case err1 == nil:
		fmt.Fprintf(out, "%s.int_sum(%s) = %d\n", r.target, show(good), sum)
	default:
		fmt.Fprintf(out, "%s.int_sum(%s) failed: %v\n", r.target, show(good), err1)
	}
	bad := map[string]any{"a": 5, "b": "b"}
	err2 := r.sum(ctx, bad, nil)
	switch {
	case err2 == nil:
		fmt.Fprintf(out, "%s.int_sum(%s) was accepted, but b is not an integer\n", r.target, show(bad))
	case errors.Is(err2, component.ErrInvalidArguments):
		fmt.Fprintf(out, "%s.int_sum(%s) refused: %v: %s\n", r.target, show(bad), component.ErrInvalidArguments, reason(err2))
	default:
		fmt.Fprintf(out, "%s.int_sum(%s) failed: %v\n", r.target, show(bad), err2)
	}
	if err1 != nil || sum != 23 || !errors.Is(err2, component.ErrInvalidArguments) {
		return fmt.Errorf("unexpected outcome: want %[1]s.int_sum(%[2]s) = 23 and %[1]s.int_sum(%[3]s) refused as %[4]v",
			r.target, show(good), show(bad), component.ErrInvalidArguments)
	}
	return nil
}

// bench measures int_sum(5, 18) one call at a time, then with r.concurrency in flight.
func (r requester) bench(ctx context.Context, out io.Writer) error {
	call := func(ctx context.Context) error {
		var sum int
		if err := r.sum(ctx, map[string]any{"a": 5, "b": 18}, &sum); err != nil {
			return err
		}
		if sum != 23 {
			return fmt.Errorf("int_sum(5, 18) returned %d", sum)
		}
		return nil
	}
	// The warm-up is not reported on its own line, but its failures count for the exit
	// status: a failure must not go unreported because it happened early.
	warm := Measure(ctx, "warmup", min(Warmup, r.benchN), 1, call)
	failed, total, first := warm.Errors, warm.Calls, warm.FirstErr
	if warm.Errors > 0 {
		r.log.Error("warm-up calls failed", "failed", warm.Errors, "calls", warm.Calls, "first", warm.FirstErr)
	}
	// Each line is printed as soon as its run ends.
	for _, run := range []struct {
		mode        string
		n, inflight int
	}{{"serial", r.benchN, 1}, {"concurrent" + strconv.Itoa(r.concurrency), 2 * r.benchN, r.concurrency}} {
		s := Measure(ctx, run.mode, run.n, run.inflight, call)
		fmt.Fprintln(out, s.JSON())
		failed, total = failed+s.Errors, total+s.Calls
		if first == nil {
			first = s.FirstErr
		}
	}
	if r.retry {
		r.log.Warn("benchmark done", "retried_tries", r.retries.Load(), "failed_calls", failed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("benchmark interrupted: %s", cli.Reason(ctx))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d calls failed; the first: %w", failed, total, first)
	}
	return nil
}

// sum calls int_sum on the target within r.timeout. With r.retry a try that failed for
// a reason a fault explains (retryable) is repeated, each try bounded by attemptTimeout,
// until r.timeout; the error returned is the last try's.
func (r requester) sum(ctx context.Context, args map[string]any, result *int) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if !r.retry {
		return r.h.Call(ctx, r.target, "int_sum", args, result)
	}
	const attemptTimeout = 2 * time.Second
	pause := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		actx, acancel := context.WithTimeout(ctx, attemptTimeout)
		err := r.h.Call(actx, r.target, "int_sum", args, result)
		acancel()
		if err == nil || ctx.Err() != nil || !retryable(err) {
			return err
		}
		r.retries.Add(1)
		r.log.Warn("call failed, retrying", "target", r.target, "attempt", attempt, "err", err, "pause", pause)
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
		pause = min(2*pause, time.Second)
	}
}

// retryable tells the failures that a restart of the target, the registry or the broker
// causes, and that a later try of the same call may not meet: the answer did not come in
// time, the connection was lost, or the registry does not know the target or has seen
// no consumer on its queue for a while. A refusal by the target (invalid arguments,
// unknown method, a failure of the method) is final.
func retryable(err error) bool {
	return errors.Is(err, component.ErrTimeout) || errors.Is(err, bridge.ErrConnectionLost) ||
		errors.Is(err, component.ErrNotAlive) || errors.Is(err, component.ErrUnknownComponent)
}

// reason is the remote error text without the call's prefix.
func reason(err error) string {
	var re *component.RemoteError
	if errors.As(err, &re) && len(re.Items) > 0 {
		return re.Items[0].Summary()
	}
	return err.Error()
}

func show(args map[string]any) string {
	return fmt.Sprintf("a=%#v, b=%#v", args["a"], args["b"])
}
