package actors_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/examples/seed"
)

// runInFlight runs n operations with inflight goroutines and returns calls per second.
func runInFlight(n, inflight int, op func() error) (float64, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	begin := time.Now()
	for g := 0; g < inflight; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := op(); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		return 0, err
	}
	return float64(n) / time.Since(begin).Seconds(), nil
}

type echo struct{}

func (echo) Receive(c actor.Context) {
	if _, ok := c.Message().(int); ok {
		c.Respond(c.Message())
	}
}

// bareFutureRate measures the baseline in the same run: a protoactor RequestFuture round
// trip to an actor that answers at once.
func bareFutureRate(b *testing.B, inflight int) float64 {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }))
	defer sys.Shutdown()
	pid := sys.Root.Spawn(actor.PropsFromProducer(func() actor.Actor { return echo{} }))
	defer func() { _ = sys.Root.StopFuture(pid).Wait() }()
	rate, err := runInFlight(200_000, inflight, func() error {
		_, err := sys.Root.RequestFuture(pid, 1, 5*time.Second).Result()
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return rate
}

// BenchmarkCall measures component.Call in one process: caller component -> registry ->
// IntSummator -> registry -> caller, over the embedded transport, next to a bare
// protoactor future round trip measured in the same run.
func BenchmarkCall(b *testing.B) {
	for _, inflight := range []int{1, 64} {
		b.Run(fmt.Sprintf("inflight=%d", inflight), func(b *testing.B) {
			bare := bareFutureRate(b, inflight)
			sys, err := actors.New()
			if err != nil {
				b.Fatal(err)
			}
			defer sys.Shutdown(context.Background())
			ctx := context.Background()
			if _, err := sys.StartRegistry(ctx); err != nil {
				b.Fatal(err)
			}
			if _, err := sys.Spawn(ctx, seed.IntSummator()); err != nil {
				b.Fatal(err)
			}
			req, err := sys.Spawn(ctx, component.New("SumRequester", component.WithCallTimeout(10*time.Second)))
			if err != nil {
				b.Fatal(err)
			}
			args := seed.SumArgs{A: 5, B: 18}
			b.ResetTimer()
			rate, err := runInFlight(b.N, inflight, func() error {
				var sum int
				if err := req.Call(ctx, "IntSummator", "int_sum", args, &sum); err != nil {
					return err
				}
				if sum != 23 {
					return fmt.Errorf("sum = %d", sum)
				}
				return nil
			})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(rate, "calls/s")
			b.ReportMetric(bare, "bare_calls/s")
			b.ReportMetric(rate/bare, "ratio_vs_bare")
		})
	}
}
