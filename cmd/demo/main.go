// Command demo runs the seed example in one process: the registry, IntSummator and
// SumRequester, over the embedded transport (no broker needed), and shows a supervised
// crash and restart.
//
//	go run ./cmd/demo [--log-level info] [--log-format text|json] [--amqp URL] [--metrics ADDR]
//
// With --amqp the same scene runs over RabbitMQ at URL (all parties still in this
// process). Without it the demo stays embedded; $AMQP_URL is deliberately not consulted.
// With --metrics the process serves its Prometheus metrics at http://ADDR/metrics and,
// after the scene, keeps its components running until SIGINT or SIGTERM, so that they
// can be scraped.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/examples/seed"
	"github.com/at-technology/atqueue/internal/cli"
	"github.com/at-technology/atqueue/metrics"
)

func main() {
	os.Exit(cli.Main("demo", func(ctx context.Context, args []string) error {
		return run(ctx, args, os.Stdout)
	}))
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	amqpURL := fs.String("amqp", "", "run over RabbitMQ at this AMQP `URL` instead of the embedded transport")
	durable := cli.DurableFlag(fs)
	logs := cli.LogFlags(fs, slog.LevelWarn)
	metricsAddr := fs.String("metrics", "", "serve Prometheus metrics at http://`ADDR`/metrics (host:port, e.g. 127.0.0.1:9464) "+
		"and keep running after the scene until SIGINT or SIGTERM")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: demo [options]

Runs the seed example in one process: the registry, IntSummator, Flaky and SumRequester,
over the embedded transport (no broker needed) or RabbitMQ (--amqp), and shows a
supervised crash and restart.

options:
`)
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, false); err != nil {
		return err
	}
	if *metricsAddr != "" {
		if _, _, err := net.SplitHostPort(*metricsAddr); err != nil {
			return cli.Usagef("--metrics %q is not host:port", *metricsAddr)
		}
	}
	// For people watching, short lines among the demo's own; --log-format asks for a log
	// proper, on stderr.
	logger := slog.New(newPersonHandler(out, logs.Level()))
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "log-format" {
			logger = logs.Logger(os.Stderr)
		}
	})

	var sysOpts []actors.Option
	var served *metrics.Server
	if *metricsAddr != "" {
		m := metrics.New()
		var err error
		if served, err = m.Serve(ctx, *metricsAddr); err != nil {
			return err
		}
		defer served.Close()
		sysOpts = append(sysOpts, actors.WithMetrics(m))
	}

	var sys *actors.System
	var err error
	transport := "embedded (in-process, no broker)"
	if *amqpURL != "" {
		sys, err = cli.ConnectSystem(ctx, *amqpURL, logger, durable.Options(), sysOpts...)
		transport = "RabbitMQ at " + cli.MaskURL(*amqpURL)
	} else {
		sys, err = actors.New(append([]actors.Option{actors.WithLogger(logger)}, sysOpts...)...)
	}
	if err != nil {
		return err
	}
	defer func() { _ = sys.Shutdown(context.Background()) }()
	fmt.Fprintln(out, "transport:", transport)
	if served != nil {
		fmt.Fprintln(out, "metrics:", served.URL())
	}

	start, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := sys.StartRegistry(start); err != nil {
		return err
	}
	fmt.Fprintln(out, "registry: listening")
	for _, def := range []*component.Component{seed.IntSummator(), seed.Flaky()} {
		h, err := sys.Spawn(start, def)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: registered, session %s\n", h.Name(), h.SessionID())
	}
	req, err := sys.Spawn(start, seed.SumRequester())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s: registered, session %s\n", req.Name(), req.SessionID())

	call := func(target, method string, args map[string]any) {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var sum int
		err := req.Call(cctx, target, method, args, &sum)
		switch {
		case err == nil:
			fmt.Fprintf(out, "SumRequester -> %s.%s(%s) = %d\n", target, method, show(args), sum)
		case errors.Is(err, component.ErrInvalidArguments):
			fmt.Fprintf(out, "SumRequester -> %s.%s(%s) refused: %s\n", target, method, show(args), reason(err))
		case errors.Is(err, component.ErrCrashed):
			fmt.Fprintf(out, "SumRequester -> %s.%s(%s) crashed the target: %s\n", target, method, show(args), reason(err))
		default:
			fmt.Fprintf(out, "SumRequester -> %s.%s(%s) failed: %v\n", target, method, show(args), err)
		}
	}
	call("IntSummator", "int_sum", map[string]any{"a": 5, "b": 18})
	call("IntSummator", "int_sum", map[string]any{"a": 5, "b": "b"})
	call("Flaky", "flaky_sum", map[string]any{"a": 2, "b": 2})
	call("Flaky", "flaky_sum", map[string]any{"a": 2, "b": 3})
	if served != nil {
		fmt.Fprintf(out, "serving %s until SIGINT or SIGTERM\n", served.URL())
		select {
		case <-ctx.Done():
		case <-served.Done(): // its context ended, or it failed
			if err := served.Close(); err != nil && ctx.Err() == nil {
				return fmt.Errorf("metrics: %w", err)
			}
		}
	}

	stopCtx, cancelStop := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelStop()
	if err := sys.Shutdown(stopCtx); err != nil {
		return err
	}
	fmt.Fprintln(out, "shut down cleanly")
	return nil
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
