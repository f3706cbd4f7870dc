// Command registry is the seed example's broker.py: the AT_QUEUE registry over RabbitMQ.
// It routes every message between the components by name and answers the registry
// services, until SIGINT or SIGTERM, then shuts down in order and exits 0.
//
//	go run ./examples/registry [--amqp URL] [-v]
//
// The broker URL defaults to $AMQP_URL, else amqp://guest:guest@localhost:5672/. It prints
// "registry listening on <URL>" on stdout once it consumes its queue; logs go to stderr.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/internal/cli"
	"github.com/at-technology/atqueue/registry"
)

func main() {
	os.Exit(cli.Main("registry", func(ctx context.Context, args []string) error {
		return run(ctx, args, os.Stdout, os.Stderr)
	}))
}

func run(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("registry", flag.ContinueOnError)
	fs.SetOutput(errOut)
	amqpURL := cli.AMQPFlag(fs)
	durable := cli.DurableFlag(fs)
	verbose := fs.Bool("v", false, "log debug records")
	state := cli.StateFlag(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: registry [--amqp URL] [-v]\n\nRuns the AT_QUEUE registry over RabbitMQ until SIGINT or SIGTERM.\n\n")
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, false); err != nil {
		return err
	}
	log := cli.Logger(errOut, cli.Level(*verbose))

	sys, err := cli.Connect(ctx, amqpURL.Raw(), log, append(durable.Options(), amqpbridge.WithConnectionName("registry"))...)
	if err != nil {
		return cli.Interrupted(ctx, err)
	}
	start, cancel := context.WithTimeout(ctx, cli.StartTimeout)
	defer cancel()
	statePath, err := cli.StatePath(*state, amqpURL.Raw())
	if err != nil {
		return cli.Stop(sys, err)
	}
	if _, err := sys.StartRegistry(start, registry.WithStateFile(statePath)); err != nil {
		return cli.Stop(sys, cli.Interrupted(ctx, err))
	}
	fmt.Fprintf(out, "registry listening on %s\n", amqpURL)

	<-ctx.Done()
	log.Info("shutting down", "reason", cli.Reason(ctx))
	if err := cli.Stop(sys, nil); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}
