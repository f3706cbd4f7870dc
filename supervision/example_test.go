package supervision_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/at-technology/atqueue/supervision"
)

func ExampleBackoff_Delay() {
	b := supervision.Backoff{Initial: 10 * time.Millisecond, Max: time.Second, Multiplier: 3}
	for n := 1; n <= 6; n++ {
		fmt.Println(n, b.Delay(n))
	}
	// Output:
	// 1 10ms
	// 2 30ms
	// 3 90ms
	// 4 270ms
	// 5 810ms
	// 6 1s
}

func ExampleNewTree() {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}))
	defer sys.Shutdown()

	events := make(chan supervision.Event, 1)
	tree, err := supervision.NewTree(sys.Root, "components", supervision.DefaultPolicy(), func(e supervision.Event) {
		events <- e // must not block: buffered, and this example fails only once
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	worker := actor.PropsFromFunc(func(c actor.Context) {
		if s, ok := c.Message().(string); ok && s == "fail" {
			panic("worker failed")
		}
	})
	pid, err := tree.Spawn(ctx, "worker", worker)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pid.Id)

	sys.Root.Send(pid, "fail")
	e := <-events
	fmt.Println(e.Directive, e.Restarts, e.Reason)

	if err := tree.Stop(ctx); err != nil {
		fmt.Println(err)
	}
	// Output:
	// components/worker
	// restart 1 worker failed
}
