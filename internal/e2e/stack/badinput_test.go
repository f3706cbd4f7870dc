package stack_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/bridge"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/examples/seed"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/wire"
)

// Bad input published straight onto the registry's and a component's queues over
// RabbitMQ: an error answer where the sender can be identified, nothing otherwise, and
// both keep serving.
func TestBadInputOverRabbitMQ(t *testing.T) {
	url := rabbittest.VHost(t)
	startRegistry(t, url)
	spawn(t, url, seed.IntSummator())
	req := spawn(t, url, seed.SumRequester())
	ctx := deadline(t, 30*time.Second)

	// A raw party named "Prober", registered as a Python peer would, reads its answers.
	raw, err := amqpbridge.Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	answers := make(chan wire.Envelope, 64)
	consume := func(queue string) {
		sub, err := raw.Consume(ctx, queue, 16, func(d *bridge.Delivery) {
			if e, err := wire.Decode(d.Body, 0); err == nil {
				answers <- e
			}
			_ = d.Ack()
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = sub.Cancel() })
	}
	consume(wire.RecieveQueue(wire.RegistrySession))
	publish := func(queue, body string) {
		done := make(chan error, 1)
		raw.Publish(queue, []byte(body), nil, func(err error) { done <- err })
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	wait := func(id string) wire.Envelope {
		t.Helper()
		for {
			select {
			case e := <-answers:
				if e.AnswerTo == id {
					return e
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no answer to %s", id)
			}
		}
	}
	regQ := wire.SendQueue(wire.RegistrySession)
	publish(regQ, `{"sender": "Prober", "reciever": "registry", "message": {"type": "register", "component": {"name": "Prober", "description": null, "methods": {}}}, "message_id": "reg", "answer_to": null}`)
	if e := wait("reg"); !strings.Contains(string(e.Message), wire.SessionID("Prober")) {
		t.Fatalf("registration: %s", e.Message)
	}
	consume(wire.RecieveQueue(wire.SessionID("Prober")))
	mine := wire.SendQueue(wire.SessionID("Prober"))

	cases := []struct {
		name, queue, body, id, want string
	}{
		{"registry: not json", regQ, `{{{`, "", ""},
		{"registry: not an object", regQ, `[1]`, "", ""},
		{"registry: bad description", regQ, `{"sender": "Prober", "reciever": "registry", "message": {"type": "register", "component": {"name": "X", "methods": {"m": {"inputs": {"a": {"name": "a", "schema": {}, "type": "int"}}, "output": {"schema": null}}}}}, "message_id": "bad-desc", "answer_to": null}`, "bad-desc", "unexpected keys"},
		{"registry: unicode name", regQ, `{"sender": "Сумматор ☃", "reciever": "registry", "message": {"type": "register", "component": {"name": "Сумматор ☃", "description": null, "methods": {}}}, "message_id": "uni", "answer_to": null}`, "uni", wire.SessionID("Сумматор ☃")},
		{"broker: invalid utf-8", mine, "{\"sender\": \"\xff\"}", "", ""},
		{"broker: message null", mine, `{"sender": "Prober", "reciever": "IntSummator", "message": null, "message_id": "m-null", "answer_to": null}`, "m-null", "must be a JSON object"},
		{"broker: unknown type to registry", mine, `{"sender": "Prober", "reciever": "registry", "message": {"type": "dance"}, "message_id": "m-dance", "answer_to": null}`, "m-dance", "does not serve"},
		{"component: args null", mine, `{"sender": "Prober", "reciever": "IntSummator", "message": {"type": "exec_method", "method": "int_sum", "args": null}, "message_id": "m-args", "answer_to": null}`, "m-args", "is not an object"},
		{"component: no method", mine, `{"sender": "Prober", "reciever": "IntSummator", "message": {"type": "exec_method", "args": {}}, "message_id": "m-nomethod", "answer_to": null}`, "m-nomethod", "without a method name"},
		{"component: huge body", mine, `{"sender": "Prober", "reciever": "IntSummator", "message": {"type": "ping", "pad": "` + strings.Repeat("x", wire.DefaultMaxBody) + `"}, "message_id": "m-huge", "answer_to": null}`, "m-huge", "too large"},
		{"broker: deep nesting", mine, `{"sender": "Prober", "reciever": "IntSummator", "message": {"type": "exec_method", "method": "int_sum", "args": {"a": ` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}}, "message_id": "m-deep", "answer_to": null}`, "m-deep", "nested too deeply"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			publish(c.queue, c.body)
			if c.id != "" {
				if e := wait(c.id); !strings.Contains(string(e.Message), c.want) {
					t.Fatalf("answer %s, want %q", e.Message, c.want)
				}
			}
			// Every other message is still served.
			var sum int
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := req.Call(cctx, "IntSummator", "int_sum", seed.SumArgs{A: 5, B: 18}, &sum); err != nil || sum != 23 {
				t.Fatalf("after %s: %d %v", c.name, sum, err)
			}
		})
	}
}
