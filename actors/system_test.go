package actors_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/examples/seed"
)

func TestShutdownIsOrderedAndIdempotent(t *testing.T) {
	sys, err := actors.New()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := sys.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	sum, err := sys.Spawn(ctx, seed.IntSummator())
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sum.Done():
	default:
		t.Fatal("Shutdown returned before the component stopped")
	}
	if err := sys.Shutdown(ctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	if _, err := sys.Spawn(ctx, component.New("Late")); !errors.Is(err, actors.ErrShutdown) {
		t.Fatalf("Spawn after Shutdown: %v", err)
	}
	if _, err := sys.StartRegistry(ctx); !errors.Is(err, actors.ErrShutdown) {
		t.Fatalf("StartRegistry after Shutdown: %v", err)
	}
}
