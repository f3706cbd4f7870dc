// Command intsummator is the seed example's IntSummator as its own process: it registers
// with the registry over RabbitMQ, answers int_sum(a, b) until SIGINT or SIGTERM, then
// leaves the registry and exits 0.
//
//	go run ./examples/intsummator [--amqp URL] [-v]
//
// The registry (go run ./examples/registry) must be running. It prints "IntSummator
// registered, session <id>" on stdout once it serves; logs go to stderr.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/examples/seed"
	"github.com/at-technology/atqueue/internal/cli"
)

func main() {
	os.Exit(cli.Main("intsummator", func(ctx context.Context, args []string) error {
		return run(ctx, args, os.Stdout, os.Stderr)
	}))
}

func run(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("intsummator", flag.ContinueOnError)
	fs.SetOutput(errOut)
	amqpURL := cli.AMQPFlag(fs)
	durable := cli.DurableFlag(fs)
	verbose := fs.Bool("v", false, "log debug records")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: intsummator [--amqp URL] [-v]\n\nServes IntSummator.int_sum over RabbitMQ until SIGINT or SIGTERM; the registry must be running.\n\n")
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, false); err != nil {
		return err
	}
	log := cli.Logger(errOut, cli.Level(*verbose))

	sys, err := cli.Connect(ctx, amqpURL.Raw(), log, append(durable.Options(), amqpbridge.WithConnectionName("intsummator"))...)
	if err != nil {
		return cli.Interrupted(ctx, err)
	}
	start, cancel := context.WithTimeout(ctx, cli.StartTimeout)
	defer cancel()
	h, err := sys.Spawn(start, seed.IntSummator())
	if err != nil {
		return cli.Stop(sys, cli.Interrupted(ctx, cli.Registering(err)))
	}
	fmt.Fprintf(out, "%s registered, session %s\n", h.Name(), h.SessionID())

	select {
	case <-ctx.Done():
		log.Info("shutting down", "reason", cli.Reason(ctx))
	case <-h.Done():
		return cli.Stop(sys, errors.New("IntSummator stopped: it failed more often than its supervisor allows"))
	}
	if err := cli.Stop(sys, nil); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}
