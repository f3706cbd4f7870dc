package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/component"
)

// InProcess is the in-process measurement, no broker: a caller's Call to a summator
// through the runtime over the embedded transport (registry included, direct calls as
// by default), beside its baseline, a bare protoactor request-future round trip to an
// actor that answers at once. Close it.
type InProcess struct {
	bare   *actor.ActorSystem
	echo   *actor.PID
	sys    *actors.System
	caller *component.Handle
}

// echo answers every int with itself.
type echo struct{}

func (echo) Receive(c actor.Context) {
	if n, ok := c.Message().(int); ok {
		c.Respond(n)
	}
}

// StartInProcess starts both sides.
func StartInProcess(ctx context.Context) (_ *InProcess, err error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := &InProcess{bare: actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet }),
		actor.WithDeadLetterThrottleInterval(10*time.Millisecond))}
	p.echo = p.bare.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return echo{} }))
	defer func() {
		if err != nil {
			err = errors.Join(fmt.Errorf("in process: %w", err), p.Close())
		}
	}()
	if p.sys, err = actors.New(); err != nil {
		return nil, err
	}
	if _, err := p.sys.StartRegistry(ctx); err != nil {
		return nil, err
	}
	if _, err := p.sys.Spawn(ctx, Summator("Summator")); err != nil {
		return nil, err
	}
	if p.caller, err = p.sys.Spawn(ctx, component.New("Caller", component.WithCallTimeout(CallTimeout))); err != nil {
		return nil, err
	}
	return p, nil
}

// Future is one bare request-future round trip.
func (p *InProcess) Future(context.Context) error {
	res, err := p.bare.Root.RequestFuture(p.echo, 1, CallTimeout).Result()
	if err == nil && res != 1 {
		err = fmt.Errorf("the echo answered %v", res)
	}
	return err
}

// Call is one int_sum(5, 18) through the runtime, checked.
func (p *InProcess) Call(ctx context.Context) error {
	var sum int
	if err := p.caller.Call(ctx, "Summator", "int_sum", SumArgs{A: 5, B: 18}, &sum); err != nil {
		return err
	}
	if sum != 23 {
		return fmt.Errorf("int_sum(5, 18) returned %d", sum)
	}
	return nil
}

// Close stops both sides and waits for them.
func (p *InProcess) Close() error {
	var err error
	if p.sys != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = p.sys.Shutdown(ctx)
		cancel()
		p.sys = nil
	}
	if p.bare != nil {
		_ = p.bare.Root.StopFuture(p.echo).Wait()
		p.bare.Shutdown()
		p.bare = nil
	}
	return err
}
