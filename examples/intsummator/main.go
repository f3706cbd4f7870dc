// Command intsummator is the seed example's IntSummator as its own process: it registers
// with the registry over RabbitMQ, answers int_sum(a, b) until SIGINT or SIGTERM, then
// leaves the registry and exits 0. It prints "IntSummator registered, session <id>" once it
// serves; the runtime logs to stderr.
//
//	go run ./cmd/atq registry --pidfile "" &   # the registry must be running
//	go run ./examples/intsummator [--amqp URL] [--log-format text|json] [--log-level LEVEL]
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/at-technology/atqueue/actors"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/examples/seed"
)

func main() {
	url := flag.String("amqp", "", "AMQP `URL` of RabbitMQ (default $AMQP_URL, else amqp://guest:guest@localhost:5672/)")
	format := flag.String("log-format", "text", "`text` (for people) or json (one object per line) for the log lines on stderr")
	var level slog.Level // info
	flag.TextVar(&level, "log-level", level, "the least `level` logged: debug, info, warn or error")
	flag.Parse()
	opts := &slog.HandlerOptions{Level: level}
	var logs slog.Handler
	switch *format {
	case "text":
		logs = slog.NewTextHandler(os.Stderr, opts)
	case "json":
		logs = slog.NewJSONHandler(os.Stderr, opts)
	default:
		fmt.Fprintf(os.Stderr, "intsummator: --log-format %q: text or json\n", *format)
		os.Exit(2)
	}
	if err := run(cmp.Or(*url, os.Getenv("AMQP_URL"), "amqp://guest:guest@localhost:5672/"), slog.New(logs)); err != nil {
		fmt.Fprintln(os.Stderr, "intsummator:", err)
		os.Exit(1)
	}
}

func run(url string, log *slog.Logger) (err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sys, err := actors.New(actors.WithBroker(amqpbridge.NewBroker(url)), actors.WithLogger(log))
	if err != nil {
		return err
	}
	defer func() { // stops the component (it leaves the registry), then the connection
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = errors.Join(err, sys.Shutdown(ctx))
	}()

	h, err := sys.Spawn(ctx, seed.IntSummator())
	if err != nil {
		return err
	}
	fmt.Printf("%s registered, session %s\n", h.Name(), h.SessionID())
	select {
	case <-ctx.Done(): // SIGINT or SIGTERM
		return nil
	case <-h.Done():
		return errors.New("IntSummator stopped: it failed more often than its supervisor allows")
	}
}
