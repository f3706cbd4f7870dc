// Command sumrequester is the seed example's requester: over RabbitMQ it calls
// IntSummator.int_sum with {"a": 5, "b": 18} and prints 23, then with {"a": 5, "b": "b"}
// and prints the validation error it is refused with.
//
//	go run ./cmd/atq registry --pidfile "" &   # the registry and
//	go run ./examples/intsummator &            # IntSummator must be running
//	go run ./examples/sumrequester [--amqp URL]
//
// This file alone is the example; bench.go keeps the benchmark's options working.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/at-technology/atqueue/actors"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/examples/seed"
)

func main() {
	url := flag.String("amqp", "", "AMQP `URL` of RabbitMQ (default $AMQP_URL, else amqp://guest:guest@localhost:5672/)")
	flag.Parse()
	if err := run(cmp.Or(*url, os.Getenv("AMQP_URL"), "amqp://guest:guest@localhost:5672/")); err != nil {
		fmt.Fprintln(os.Stderr, "sumrequester:", err)
		os.Exit(1)
	}
}

func run(url string) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sys, err := actors.New(actors.WithBroker(amqpbridge.NewBroker(url)))
	if err != nil {
		return err
	}
	defer func() { // the requester leaves the registry, then the connection closes
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = errors.Join(err, sys.Shutdown(ctx))
	}()
	requester, err := sys.Spawn(ctx, seed.SumRequester())
	if err != nil {
		return err
	}

	var sum int
	if err := requester.Call(ctx, "IntSummator", "int_sum", seed.SumArgs{A: 5, B: 18}, &sum); err != nil {
		return err
	}
	fmt.Println("int_sum(a=5, b=18) =", sum)

	err = requester.Call(ctx, "IntSummator", "int_sum", map[string]any{"a": 5, "b": "b"}, nil)
	if !errors.Is(err, component.ErrInvalidArguments) {
		return fmt.Errorf(`int_sum(a=5, b="b") was not refused as invalid arguments: %v`, err)
	}
	fmt.Println(`int_sum(a=5, b="b") refused:`, err)
	return nil
}
