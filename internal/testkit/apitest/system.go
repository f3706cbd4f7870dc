package apitest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/at-technology/atqueue/actors"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/component"
)

// Wait bounds one step of these tests: a call, a start, a shutdown.
const Wait = 15 * time.Second

// System connects to RabbitMQ at url and starts an actor system over it that logs to log
// (nil: nowhere). It is shut down at the end of the test, or earlier by the returned
// function (which may then be called again, harmlessly).
func System(t testing.TB, url string, log *slog.Logger) (*actors.System, func()) {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sys, err := actors.New(actors.WithBroker(amqpbridge.NewBroker(url, amqpbridge.WithLogger(log))), actors.WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	down := func() {
		ctx, cancel := context.WithTimeout(context.Background(), Wait)
		defer cancel()
		if err := sys.Shutdown(ctx); err != nil {
			t.Errorf("shutting the test's actor system down: %v", err)
		}
	}
	t.Cleanup(down)
	return sys, down
}

// Spawn registers def in sys within Wait; it fails the test when it cannot.
func Spawn(t testing.TB, sys *actors.System, def *component.Component) *component.Handle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	h, err := sys.Spawn(ctx, def)
	if err != nil {
		t.Fatalf("starting %s: %v", def.Name(), err)
	}
	return h
}
