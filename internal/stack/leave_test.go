package stack_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/actors"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/examples/seed"
	"github.com/at-technology/atqueue/internal/rabbittest"
	"github.com/at-technology/atqueue/supervision"
	"github.com/at-technology/atqueue/wire"
	amqp "github.com/rabbitmq/amqp091-go"
)

// Over RabbitMQ, each party in its own connection: requests waiting in the queue of a
// component its supervisor stops are answered with ComponentStoppedException, and the
// answer of a method still running when its component leaves reaches the caller.
func TestLeavingComponentAnswersOverRabbitMQ(t *testing.T) {
	url := rabbittest.VHost(t)
	startRegistry(t, url)
	ctx := deadline(t, 30*time.Second)

	gate, started := make(chan struct{}), make(chan struct{}, 1)
	fragile := component.New("Fragile", component.WithPrefetch(1),
		component.WithPolicy(supervision.Policy{MaxRestarts: 0}))
	component.Method(fragile, "crash", func(context.Context, struct{}) (int, error) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-gate
		panic("fragile")
	})
	release, running := make(chan struct{}), make(chan struct{})
	slow := component.New("Slow")
	component.Method(slow, "slow", func(context.Context, struct{}) (int, error) {
		close(running)
		<-release
		return 42, nil
	})
	fh := spawn(t, url, fragile)
	sh := spawn(t, url, slow)
	req := spawn(t, url, component.New("Caller"))

	// Fragile: one request runs, ten wait in the queue (prefetch 1), then it crashes for good.
	first := make(chan error, 1)
	go func() { first <- req.Call(ctx, "Fragile", "crash", nil, nil) }()
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("the first request never ran")
	}
	const waiting = 10
	errs := make(chan error, waiting)
	for range waiting {
		go func() { errs <- req.Call(ctx, "Fragile", "crash", nil, nil) }()
	}
	waitReady(ctx, t, url, wire.RecieveQueue(fh.SessionID()), waiting)
	close(gate)
	if err := <-first; !errors.Is(err, component.ErrCrashed) {
		t.Fatalf("first request: %v", err)
	}
	stopped := 0
	for range waiting {
		err := <-errs
		switch {
		case errors.Is(err, component.ErrNotAlive):
			stopped++
		case errors.Is(err, component.ErrCrashed), errors.Is(err, component.ErrUnknownComponent):
		default:
			t.Errorf("a waiting request ended with %v", err)
		}
	}
	if stopped == 0 {
		t.Error("no waiting request was answered by the stopped component")
	}
	t.Logf("%d of %d waiting requests answered by the stopped component", stopped, waiting)
	select {
	case <-fh.Done():
	case <-ctx.Done():
		t.Fatal("Fragile did not stop")
	}

	// Slow: Stop begins while its method runs; the answer still arrives.
	result := make(chan error, 1)
	var got int
	go func() { result <- req.Call(ctx, "Slow", "slow", nil, &got) }()
	select {
	case <-running:
	case <-ctx.Done():
		t.Fatal("the method never ran")
	}
	stopErr := make(chan error, 1)
	go func() { stopErr <- sh.Stop(ctx) }()
	for {
		ok, err := req.CheckRegistered(ctx, "Slow")
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
	}
	close(release)
	if err := <-result; err != nil || got != 42 {
		t.Fatalf("call: %d %v", got, err)
	}
	if err := <-stopErr; err != nil {
		t.Fatalf("stop: %v", err)
	}
	// The request was acknowledged before the consumer went: nothing waits to run again.
	if n := readyIn(t, rabbittest.Channel(t, url), wire.RecieveQueue(sh.SessionID())); n != 0 {
		t.Fatalf("%d messages left in Slow's queue after Stop, want 0", n)
	}
}

// readyIn is the number of messages ready for delivery in queue, as the broker says.
func readyIn(t *testing.T, ch *amqp.Channel, queue string) int {
	t.Helper()
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return q.Messages
}

// waitReady waits until queue holds n messages ready for delivery.
func waitReady(ctx context.Context, t *testing.T, url, queue string, n int) {
	t.Helper()
	ch := rabbittest.Channel(t, url)
	for {
		got := readyIn(t, ch, queue)
		if got >= n {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("%s holds %d ready messages, want %d", queue, got, n)
		}
	}
}

// A component whose process is gone and whose queue was deleted behind the registry's back
// (by an operator, say): a call to it is answered at once, not left to its deadline.
func TestCallToDeletedQueueIsAnswered(t *testing.T) {
	url := rabbittest.VHost(t)
	startRegistry(t, url)
	ctx := deadline(t, 30*time.Second)

	// The ghost's process: its connection is closed under it, so it never unregisters.
	tr, err := amqpbridge.Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	sys, err := actors.New(actors.WithTransport(tr))
	if err != nil {
		t.Fatal(err)
	}
	ghost, err := sys.Spawn(ctx, seedSummator("Ghost"))
	if err != nil {
		t.Fatal(err)
	}
	_ = tr.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_ = sys.Shutdown(sctx) // it cannot say goodbye without its connection
	cancel()

	if _, err := rabbittest.Channel(t, url).QueueDelete(wire.RecieveQueue(ghost.SessionID()), false, false, false); err != nil {
		t.Fatal(err)
	}

	req := spawn(t, url, component.New("Caller"))
	var sum int
	err = req.Call(ctx, "Ghost", "int_sum", seed.SumArgs{A: 1, B: 2}, &sum)
	var re *component.RemoteError
	if !errors.Is(err, component.ErrNotAlive) || !errors.As(err, &re) || !strings.Contains(re.Items[0].Text, "does not exist") {
		t.Fatalf("call to a deleted queue: %v", err)
	}
	// The registry keeps serving.
	if ok, err := req.CheckRegistered(ctx, "Caller"); err != nil || !ok {
		t.Fatalf("check_registered after: %v %v", ok, err)
	}
}

func seedSummator(name string) *component.Component {
	c := component.New(name)
	component.Method(c, "int_sum", func(_ context.Context, in seed.SumArgs) (int, error) { return in.A + in.B, nil })
	return c
}
