package hostile_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/registry"
	"github.com/at-technology/atqueue/wire"
	amqp "github.com/rabbitmq/amqp091-go"
)

// Components that register and leave leave nothing behind: once the registry has stopped
// routing for them, their queues are deleted (they are empty, and nothing consumes them)
// and the registry consumes nothing of theirs.
func TestLeavingComponentsLeaveNoQueues(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := deadline(t, 60*time.Second)
	reg := process(t, url, nil)
	if _, err := reg.StartRegistry(ctx, registry.WithLinger(200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	proc := process(t, url, nil)
	const n = 20
	for i := range n {
		h, err := proc.Spawn(ctx, summator(fmt.Sprintf("Passing%02d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := h.Stop(ctx); err != nil {
			t.Fatal(err)
		}
	}
	u, _ := amqp.ParseURI(url)
	want := []string{wire.SendQueue(wire.RegistrySession), wire.RecieveQueue(wire.RegistrySession)}
	for {
		out := rabbittest.Ctl(t, "list_queues", "-p", u.Vhost, "--no-table-headers", "name", "consumers")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) == len(want) && strings.Contains(out, want[0]) && strings.Contains(out, want[1]) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("queues after %d components came and went:\n%s\nwant only the registry's pair", n, out)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// A Go component that stops under a Python registry does not wait for the answer to its
// unregister, which the Python registry never sends.
func TestStopUnderAPythonRegistryDoesNotWait(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := deadline(t, 60*time.Second)
	pyRegistry(t, url)
	watch := &logWatch{}
	proc := process(t, url, slog.New(watch))
	h, err := proc.Spawn(ctx, summator("GoBesidePython"))
	if err != nil {
		t.Fatalf("registering with the Python registry: %v", err)
	}
	if err := h.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if watch.has("did not confirm the unregister") {
		t.Fatal("the component waited for an unregister answer from a Python registry")
	}
}

// pyRegistry answers registrations the way python -m at_queue does (spec §5.2): a
// session_id, no header, after declaring the component's queues. It routes nothing.
func pyRegistry(t *testing.T, url string) {
	t.Helper()
	ch := rabbittest.Channel(t, url)
	for _, q := range []string{wire.SendQueue(wire.RegistrySession), wire.RecieveQueue(wire.RegistrySession)} {
		if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	in, err := ch.Consume(wire.SendQueue(wire.RegistrySession), "python-registry", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for d := range in {
			env, err := wire.Decode(d.Body, 0)
			if err != nil {
				continue
			}
			var p struct {
				Component struct {
					Name string `json:"name"`
				} `json:"component"`
			}
			if wire.Unmarshal(env.Message, &p) != nil || p.Component.Name == "" {
				continue
			}
			sid := wire.SessionID(p.Component.Name)
			for _, q := range []string{wire.SendQueue(sid), wire.RecieveQueue(sid)} {
				_, _ = ch.QueueDeclare(q, true, false, false, false, nil)
			}
			body, _ := envelope(wire.RegistryName, p.Component.Name, wire.Object{{Key: "session_id", Value: sid}})
			ans, _ := wire.Decode(body, 0)
			ans.AnswerTo = env.MessageID
			body, _ = ans.Marshal()
			_ = ch.PublishWithContext(context.Background(), "", wire.RecieveQueue(wire.RegistrySession), false, false, amqp.Publishing{Body: body})
		}
	}()
}
