package stack_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/bridge"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/examples/seed"
	"github.com/at-technology/atqueue/internal/testkit/leavetest"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/registry"
	"github.com/at-technology/atqueue/supervision"
	"github.com/at-technology/atqueue/wire"
	amqp "github.com/rabbitmq/amqp091-go"
)

// leaveEnv runs the leaving scenarios over RabbitMQ, each component in a process (an
// actor system with its own connection) of its own.
func leaveEnv(t *testing.T) leavetest.Env {
	url := rabbittest.VHost(t)
	startRegistry(t, url)
	ch := rabbittest.Channel(t, url)
	return leavetest.Env{
		Spawn: func(t *testing.T, def *component.Component) *component.Handle { return spawn(t, url, def) },
		Ready: func(t *testing.T, queue string) int { return readyIn(t, ch, queue) },
	}
}

func TestStoppedComponentAnswersWhatWaitsOverRabbitMQ(t *testing.T) {
	env := leaveEnv(t)
	leavetest.StoppedComponentAnswersWhatWaits(deadline(t, 30*time.Second), t, env)
}

func TestStopDeliversAnswersOfRunningMethodsOverRabbitMQ(t *testing.T) {
	env := leaveEnv(t)
	leavetest.StopDeliversAnswersOfRunningMethods(deadline(t, 30*time.Second), t, env)
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

// A component whose process is gone and whose queue was deleted behind the registry's back
// (by an operator, say): a call to it is answered at once, not left to its deadline.
func TestCallToDeletedQueueIsAnswered(t *testing.T) {
	url := rabbittest.VHost(t)
	startRegistry(t, url)
	ctx := deadline(t, 30*time.Second)

	ghost, kill := spawnGhost(t, ctx, url)
	kill() // the call below comes before the registry's liveness check (2s) finds it dead

	if _, err := rabbittest.Channel(t, url).QueueDelete(wire.RecieveQueue(ghost.SessionID()), false, false, false); err != nil {
		t.Fatal(err)
	}

	req := spawn(t, url, component.New("Caller"))
	var sum int
	err := req.Call(ctx, "Ghost", "int_sum", seed.SumArgs{A: 1, B: 2}, &sum)
	var re *component.RemoteError
	// "its queue … does not exist"; or, should the registry's liveness check have found
	// it dead first on a slow machine, "nothing has consumed its queue": both are the
	// registry's answer, and both say the call was not run.
	if !errors.Is(err, component.ErrNotAlive) || !errors.As(err, &re) ||
		!strings.Contains(re.Items[0].Text, "does not exist") && !strings.Contains(re.Items[0].Text, "nothing has consumed") {
		t.Fatalf("call to a deleted queue: %v", err)
	}
	// The registry keeps serving.
	if ok, err := req.CheckRegistered(ctx, "Caller"); err != nil || !ok {
		t.Fatalf("check_registered after: %v %v", ok, err)
	}
}

// The registry answers a routed request whose queue was deleted from the message the
// broker returns, both when it forwards what it routes (the default: no confirm, so the
// return is all it learns) and when it routes with confirms. Its liveness check is
// slowed to a minute so that only the returned message can say "does not exist".
func TestRoutedRequestToDeletedQueueIsAnswered(t *testing.T) {
	for _, confirmed := range []bool{false, true} {
		t.Run(fmt.Sprintf("confirmed=%v", confirmed), func(t *testing.T) {
			url := rabbittest.VHost(t)
			ctx := deadline(t, 30*time.Second)
			if _, err := process(t, url).StartRegistry(ctx, registry.WithLiveness(time.Second, time.Minute),
				registry.WithConfirmedRouting(confirmed)); err != nil {
				t.Fatal(err)
			}
			ghost, kill := spawnGhost(t, ctx, url)
			req, err := process(t, url, actors.WithDirectCalls(false)).Spawn(ctx, component.New("Caller"))
			if err != nil {
				t.Fatal(err)
			}
			var sum int
			if err := req.Call(ctx, "Ghost", "int_sum", seed.SumArgs{A: 1, B: 2}, &sum); err != nil || sum != 3 {
				t.Fatalf("routed call: %d %v", sum, err)
			}

			kill()
			if _, err := rabbittest.Channel(t, url).QueueDelete(wire.RecieveQueue(ghost.SessionID()), false, false, false); err != nil {
				t.Fatal(err)
			}
			for i := range 3 { // and the registry keeps routing after each
				err = req.Call(ctx, "Ghost", "int_sum", seed.SumArgs{A: 1, B: 2}, &sum)
				var re *component.RemoteError
				if !errors.Is(err, component.ErrNotAlive) || !errors.As(err, &re) || !strings.Contains(re.Items[0].Text, "does not exist") {
					t.Fatalf("routed call %d to a deleted queue: %v", i, err)
				}
			}
		})
	}
}

// spawnGhost starts a summator named Ghost in a process of its own that does not
// reconnect; kill closes its connection under it, so that it never says goodbye, as a
// process killed outright. The process ends with the test.
func spawnGhost(t *testing.T, ctx context.Context, url string) (ghost *component.Handle, kill func()) {
	t.Helper()
	broker := &capture{Broker: amqpbridge.NewBroker(url, amqpbridge.WithReconnect(supervision.Backoff{}))}
	sys, err := actors.New(actors.WithBroker(broker))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = sys.Shutdown(sctx)
	})
	if ghost, err = sys.Spawn(ctx, seedSummator("Ghost")); err != nil {
		t.Fatal(err)
	}
	return ghost, func() { _ = broker.last().Close() }
}

func seedSummator(name string) *component.Component {
	c := component.New(name)
	component.Method(c, "int_sum", func(_ context.Context, in seed.SumArgs) (int, error) { return in.A + in.B, nil })
	return c
}

// capture is a broker that keeps the last connection it gave, so that a test can close it
// under the bridge.
type capture struct {
	bridge.Broker
	mu sync.Mutex
	t  bridge.Transport
}

func (c *capture) Connect(ctx context.Context) (bridge.Transport, error) {
	t, err := c.Broker.Connect(ctx)
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
	return t, err
}

func (c *capture) last() bridge.Transport {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}
