package bench_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/internal/bench"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/wire"
)

// queueState is the consumers and ready messages of each queue named, by passive declares.
func queueState(t *testing.T, url string, queues []string) map[string][2]int {
	t.Helper()
	ch := rabbittest.Channel(t, url)
	out := map[string][2]int{}
	for _, name := range queues {
		q, err := ch.QueueDeclarePassive(name, false, false, false, false, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = [2]int{q.Consumers, q.Messages}
	}
	return out
}

func TestFloorsOverRabbitMQ(t *testing.T) {
	url := rabbittest.VHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const n = 20
	var queues []string
	for i := range n {
		sid := wire.SessionID(fmt.Sprintf("Floor%04d", i))
		queues = append(queues, wire.SendQueue(sid), wire.RecieveQueue(sid))
	}

	for _, run := range []string{"fresh", "again"} {
		took, err := bench.BareRegistrations(ctx, url, "Floor", n, 4)
		if err != nil || took <= 0 {
			t.Fatalf("%s: took %v, %v", run, took, err)
		}
		// Every registration was answered and its answer taken; the connections are
		// closed, so nothing consumes any more.
		for q, st := range queueState(t, url, append(queues, wire.SendQueue(wire.RegistrySession))) {
			if st != [2]int{0, 0} {
				t.Errorf("%s: %s has %d consumers and %d messages", run, q, st[0], st[1])
			}
		}
	}

	took, err := bench.DeclareQueues(ctx, url, "Declared", n, 4)
	if err != nil || took <= 0 {
		t.Fatalf("declares: took %v, %v", took, err)
	}
	sid := wire.SessionID(fmt.Sprintf("Declared%04d", n-1))
	queueState(t, url, []string{wire.SendQueue(sid), wire.RecieveQueue(sid)}) // both there
}

// A registration the broker refuses fails the floor with the reason; nothing waits for
// answers that cannot come.
func TestBareRegistrationsFailsOverRabbitMQ(t *testing.T) {
	url := rabbittest.VHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	taken := wire.RecieveQueue(wire.SessionID("Taken0003"))
	ch := rabbittest.Channel(t, url)
	if _, err := ch.QueueDeclare(taken, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Consume(taken, "holder", false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	took, err := bench.BareRegistrations(ctx, url, "Taken", 8, 2)
	if err == nil || !strings.Contains(err.Error(), "consuming") || took != 0 {
		t.Fatalf("took %v, %v; want the refused consume", took, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("the failure took until the deadline: %v", err)
	}
}
