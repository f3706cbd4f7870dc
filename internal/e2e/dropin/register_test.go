package dropin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/at-technology/atqueue/internal/testkit/pypeer"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/wire"
	amqp "github.com/rabbitmq/amqp091-go"
)

// Twenty at_queue components start at the same moment. Each leaves the registration
// answers meant for the others unacknowledged on the shared queue until it has its own
// (every at_queue version does), so they hold each other's answers; the registry
// publishes an answer again, to every registrant, until its component consumes its
// queue, and all of them register.
func TestRegistrationBurst(t *testing.T) {
	t.Parallel()
	const n = 20
	url := rabbittest.VHost(t)
	ctx := deadline(t, 90*time.Second)
	reg, _ := process(t, url)
	if _, err := reg.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	peers := make(chan *pypeer.Peer, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rctx, cancel := context.WithTimeout(ctx, 45*time.Second)
			defer cancel()
			name := fmt.Sprintf("Burst%02d", i)
			p, err := pypeer.Register(rctx, url, pypeer.RegisterBody(name, wire.NewID()), pypeer.Since6ddd4b0,
				map[string]pypeer.Method{"int_sum": pypeer.IntSum})
			if err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
				return
			}
			peers <- p
		}()
	}
	wg.Wait()
	close(errs)
	close(peers)
	took := time.Since(begin)
	var all []*pypeer.Peer
	for p := range peers {
		all = append(all, p)
		t.Cleanup(func() { _ = p.Close() })
	}
	for err := range errs {
		t.Error(err)
	}
	t.Logf("%d of %d at_queue-style components registered at once in %v", len(all), n, took.Round(time.Millisecond))
	if len(all) < 2 {
		return
	}
	// They are routable to each other.
	wantSum(t, ctx, all[0], all[len(all)-1].Name)
}

// Registration succeeds whatever stale answers wait in the shared queue: here those of
// five components that gave up while the registry was down (their requests waited, the
// registry answered them when it came back, nobody read the answers), then many more
// than any prefetch. A Go component and an at_queue component both register.
func TestStaleAnswersDoNotBlockRegistration(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := deadline(t, 90*time.Second)
	raw := rabbittest.Channel(t, url)
	for _, q := range []string{wire.SendQueue(wire.RegistrySession), wire.RecieveQueue(wire.RegistrySession)} {
		if _, err := raw.QueueDeclare(q, true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	publish := func(queue string, body []byte) {
		t.Helper()
		if err := raw.PublishWithContext(ctx, "", queue, false, false, amqp.Publishing{Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	// Five registrations made while no registry ran, by components that then gave up.
	for i := range 5 {
		publish(wire.SendQueue(wire.RegistrySession), pypeer.RegisterBody(fmt.Sprintf("GaveUp%d", i), wire.NewID()))
	}
	// And stale answers of long-gone components, more than any prefetch.
	for i := range 300 {
		ans, _ := json.Marshal(map[string]string{"session_id": wire.SessionID(fmt.Sprintf("Gone%d", i))})
		body, _ := (&wire.Envelope{Sender: wire.RegistryName, Reciever: fmt.Sprintf("Gone%d", i), Message: ans,
			MessageID: wire.NewID(), AnswerTo: wire.NewID()}).Marshal()
		publish(wire.RecieveQueue(wire.RegistrySession), body)
	}
	reg, _ := process(t, url)
	if _, err := reg.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	goSys, _ := process(t, url)
	rctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	begin := time.Now()
	h, err := goSys.Spawn(rctx, summator("GoSummator"))
	if err != nil {
		t.Fatalf("a Go component registering behind stale answers: %v", err)
	}
	t.Logf("the Go component registered in %v", time.Since(begin).Round(time.Millisecond))
	begin = time.Now()
	p := pyRegister(t, rctx, url, "IntSummator", pypeer.Since6ddd4b0)
	t.Logf("the at_queue component registered in %v", time.Since(begin).Round(time.Millisecond))
	var got int
	if err := h.Call(ctx, p.Name, "int_sum", sumArgs{A: 5, B: 18}, &got); err != nil || got != 23 {
		t.Fatalf("call: %d, %v", got, err)
	}
}
