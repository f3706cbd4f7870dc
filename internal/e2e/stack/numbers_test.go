package stack_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/bridge"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/examples/seed"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/wire"
)

// pyParty is a raw party on the broker that registers and talks as a Python at_queue
// component does: it publishes bodies as written and reads every delivery of its recieve
// queue, byte for byte.
type pyParty struct {
	name string
	tr   *amqpbridge.Transport
	got  chan []byte
}

func newPyParty(ctx context.Context, t *testing.T, url, name string) *pyParty {
	t.Helper()
	tr, err := amqpbridge.Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	p := &pyParty{name: name, tr: tr, got: make(chan []byte, 64)}
	// The registration answer is taken from the registry's shared queue; anything else
	// there is left for the others.
	regID := "reg-" + name
	reg := make(chan []byte, 1)
	sub, err := tr.Consume(ctx, wire.RecieveQueue(wire.RegistrySession), 16, func(d *bridge.Delivery) {
		if !strings.Contains(string(d.Body), `"answer_to": "`+regID+`"`) {
			_ = d.Nack(true)
			return
		}
		reg <- append([]byte(nil), d.Body...)
		_ = d.Ack()
	})
	if err != nil {
		t.Fatal(err)
	}
	p.publish(t, wire.SendQueue(wire.RegistrySession), `{"sender": "`+name+`", "reciever": "registry", "message": {"type": "register", "component": {"name": "`+name+`", "description": null, "methods": {}}}, "message_id": "`+regID+`", "answer_to": null}`)
	select {
	case body := <-reg:
		if !strings.Contains(string(body), wire.SessionID(name)) {
			t.Fatalf("registration of %s: %s", name, body)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no registration answer", name)
	}
	_ = sub.Cancel()
	sub, err = tr.Consume(ctx, wire.RecieveQueue(wire.SessionID(name)), 16, func(d *bridge.Delivery) {
		p.got <- append([]byte(nil), d.Body...)
		_ = d.Ack()
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Cancel() })
	return p
}

func (p *pyParty) publish(t *testing.T, queue, body string) {
	t.Helper()
	done := make(chan error, 1)
	p.tr.Publish(queue, []byte(body), nil, func(err error) { done <- err })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// send publishes body on the party's own send queue, as its component side does.
func (p *pyParty) send(t *testing.T, body string) {
	t.Helper()
	p.publish(t, wire.SendQueue(wire.SessionID(p.name)), body)
}

// next returns the next body delivered to the party that satisfies match.
func (p *pyParty) next(t *testing.T, what string, match func(body []byte) bool) []byte {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case b := <-p.got:
			if match(b) {
				return b
			}
		case <-deadline:
			t.Fatalf("%s: nothing arrived for %s", p.name, what)
			return nil
		}
	}
}

// answer waits for the answer to message id; the body is returned as it arrived.
func (p *pyParty) answer(t *testing.T, id string) []byte {
	t.Helper()
	return p.next(t, "the answer to "+id, func(b []byte) bool {
		return strings.Contains(string(b), `"answer_to": "`+id+`"`)
	})
}

type floatArgs struct {
	X float64 `json:"x"`
}

type narrowArgs struct {
	Small int8 `json:"small"`
	Count uint `json:"count"`
}

// floats is a Go component whose methods take and return Python's non-finite numbers.
func floats() *component.Component {
	c := component.New("Floats")
	component.Method(c, "half", func(_ context.Context, in floatArgs) (float64, error) { return in.X / 2, nil })
	component.Method(c, "specials", func(context.Context, struct{}) ([]float64, error) {
		return []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0.5}, nil
	})
	component.Method(c, "narrow", func(_ context.Context, in narrowArgs) (int, error) { return int(in.Small) + int(in.Count), nil })
	return c
}

func exec(id, receiver, method, args string) string {
	return `{"sender": "Prober", "reciever": "` + receiver + `", "message": {"type": "exec_method", "method": "` + method + `", "args": ` + args + `}, "message_id": "` + id + `", "answer_to": null}`
}

// Python's numbers over RabbitMQ (issue 11, points 2, 6 and 7): NaN and Infinity are
// forwarded unchanged and understood both ways; integers are exact or refused, never
// wrapped; "argument" is what Python writes; a body whose sender and id can be read is
// answered, however broken it is.
func TestPythonNumbersOverRabbitMQ(t *testing.T) {
	url := rabbittest.VHost(t)
	startRegistry(t, url)
	spawn(t, url, seed.IntSummator())
	spawn(t, url, floats())
	req := spawn(t, url, seed.SumRequester())
	ctx := deadline(t, 60*time.Second)
	prober := newPyParty(ctx, t, url, "Prober")
	peer := newPyParty(ctx, t, url, "PyPeer")

	t.Run("registry forwards NaN and Infinity byte for byte", func(t *testing.T) {
		body := `{"sender": "Prober", "reciever": "PyPeer", "message": {"type": "exec_method", "method": "m", "args": {"a": NaN, "b": [Infinity, -Infinity], "c": "NaN"}}, "message_id": "fwd-nan", "answer_to": null}`
		prober.send(t, body)
		got := peer.next(t, "the forwarded request", func(b []byte) bool { return strings.Contains(string(b), `"fwd-nan"`) })
		if string(got) != body {
			t.Fatalf("forwarded body changed:\n got %s\nwant %s", got, body)
		}
	})

	t.Run("a Go caller reads Infinity from a Python peer", func(t *testing.T) {
		type result struct {
			v   []float64
			err error
		}
		done := make(chan result, 1)
		go func() {
			var v []float64
			err := req.Call(ctx, "PyPeer", "specials", nil, &v)
			done <- result{v, err}
		}()
		request := peer.next(t, "the call from SumRequester", func(b []byte) bool { return strings.Contains(string(b), `"method": "specials"`) })
		env, err := wire.Decode(request, 0)
		if err != nil {
			t.Fatal(err)
		}
		peer.send(t, `{"sender": "PyPeer", "reciever": "SumRequester", "message": {"type": "method_result", "result": [-Infinity, NaN, 1e400, 2.5]}, "message_id": "ans-specials", "answer_to": "`+env.MessageID+`"}`)
		r := <-done
		if r.err != nil {
			t.Fatal(r.err)
		}
		if len(r.v) != 4 || !math.IsInf(r.v[0], -1) || !math.IsNaN(r.v[1]) || !math.IsInf(r.v[2], 1) || r.v[3] != 2.5 {
			t.Fatalf("result = %v", r.v)
		}
	})

	// Answers of Go components, as the Python caller reads them (the raw result).
	calls := []struct {
		name, method, args, want string
	}{
		{"Infinity argument", "half", `{"x": Infinity}`, `{"type": "method_result", "result": Infinity}`},
		{"-Infinity argument", "half", `{"x": -Infinity}`, `{"type": "method_result", "result": -Infinity}`},
		{"NaN argument", "half", `{"x": NaN}`, `{"type": "method_result", "result": NaN}`},
		{"1e400 is Python's inf", "half", `{"x": 1e400}`, `{"type": "method_result", "result": Infinity}`},
		{"numeric string Infinity", "half", `{"x": "-inf"}`, `{"type": "method_result", "result": -Infinity}`},
		{"non-finite results", "specials", `{}`, `{"type": "method_result", "result": [NaN, Infinity, -Infinity, 0.5]}`},
		{"int_sum beyond int64 is exact", "int_sum", `{"a": 9223372036854775807, "b": 1}`, `{"type": "method_result", "result": 9223372036854775808}`},
		{"int_sum of 10**30", "int_sum", `{"a": 1000000000000000000000000000000, "b": -1}`, `{"type": "method_result", "result": 999999999999999999999999999999}`},
		{"bool is an int (pydantic v2 lax)", "int_sum", `{"a": true, "b": 1}`, `{"type": "method_result", "result": 2}`},
		{"underscores", "int_sum", `{"a": "1_000", "b": " 2 "}`, `{"type": "method_result", "result": 1002}`},
		{"integral float", "int_sum", `{"a": 2.0, "b": "3.00"}`, `{"type": "method_result", "result": 5}`},
	}
	for i, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			id := "call-" + string(rune('a'+i))
			prober.send(t, exec(id, receiverOf(c.method), c.method, c.args))
			env, err := wire.Decode(prober.answer(t, id), 0)
			if err != nil {
				t.Fatal(err)
			}
			if string(env.Message) != c.want {
				t.Fatalf("answer %s, want %s", env.Message, c.want)
			}
		})
	}

	// Refusals name the failing field in the pydantic error list and, as Python does, the
	// first input in "argument" (spec quirk 10).
	refusals := []struct {
		name, method, args, argument, loc, msg string
	}{
		{"fraction for an int", "int_sum", `{"a": 1, "b": 2.5}`, "a", `"b"`, "value is not a valid integer"},
		{"full-width digits", "int_sum", `{"a": "１２", "b": 1}`, "a", `"a"`, "value is not a valid integer"},
		{"Infinity for an int", "int_sum", `{"a": 1, "b": Infinity}`, "a", `"b"`, "value is not a valid integer"},
		{"missing argument", "int_sum", `{"a": 1}`, "a", `"b"`, "field required"},
		{"extra argument", "int_sum", `{"a": 1, "b": 2, "c": 3}`, "a", `"c"`, "extra fields not permitted"},
		{"int8 overflow", "narrow", `{"small": 300, "count": 1}`, "small", `"small"`, "ensure this value is less than or equal to 127"},
		{"negative uint", "narrow", `{"small": 1, "count": -1}`, "small", `"count"`, "ensure this value is greater than or equal to 0"},
	}
	for i, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			id := "refuse-" + string(rune('a'+i))
			prober.send(t, exec(id, receiverOf(c.method), c.method, c.args))
			env, err := wire.Decode(prober.answer(t, id), 0)
			if err != nil {
				t.Fatal(err)
			}
			a, err := wire.DecodeAnswer(env.Message)
			if err != nil || len(a.Errors) != 1 {
				t.Fatalf("answer %s: %v", env.Message, err)
			}
			it := a.Errors[0]
			if it.Type != component.MethodArgumentSchemaException || it.Argument != c.argument ||
				!strings.Contains(it.Text, "\"loc\": [\n            "+c.loc) || !strings.Contains(it.Text, c.msg) {
				t.Fatalf("answer %s\nwant argument %q, loc %s, msg %q", env.Message, c.argument, c.loc, c.msg)
			}
		})
	}

	t.Run("a Go caller learns the failing field", func(t *testing.T) {
		err := req.Call(ctx, "IntSummator", "int_sum", map[string]any{"a": 1}, nil)
		var re *component.RemoteError
		if !errors.As(err, &re) || !errors.Is(err, component.ErrInvalidArguments) || len(re.Items) != 1 {
			t.Fatalf("err = %v", err)
		}
		if it := re.Items[0]; it.Argument != "a" || strings.Join(it.Fields(), ",") != "b" {
			t.Fatalf("argument %q, fields %q: %v", it.Argument, it.Fields(), err)
		}
	})

	// Broken bodies whose sender and message_id can be read are answered: by the registry
	// when they arrive on a send queue, by the component when they reach its queue.
	deep := strings.Repeat("[", 600) + strings.Repeat("]", 600)
	broken := []struct {
		name, queue, body, id, want string
	}{
		{"registry: nested too deeply", "send", `{"sender": "Prober", "reciever": "IntSummator", "message": {"type": "ping", "x": ` + deep + `}, "message_id": "deep-1", "answer_to": null}`, "deep-1", "nested too deeply"},
		{"registry: id after the deep part", "send", `{"sender": "Prober", "reciever": "IntSummator", "message": {"x": ` + deep + `}, "answer_to": null, "message_id": "deep-2"}`, "deep-2", "nested too deeply"},
		{"registry: trailing garbage", "send", `{"sender": "Prober", "reciever": "IntSummator", "message": {"type": "ping"}, "message_id": "trail-1", "answer_to": null} xyz`, "trail-1", "data after the JSON object"},
		{"registry: bad token", "send", `{"sender": "Prober", "reciever": "IntSummator", "message": {"type": "ping", "x": nan}, "message_id": "tok-1", "answer_to": null}`, "tok-1", "invalid JSON"},
		{"component: nested too deeply", "component", `{"sender": "Prober", "reciever": "IntSummator", "message": {"type": "ping", "x": ` + deep + `}, "message_id": "deep-3", "answer_to": null}`, "deep-3", "nested too deeply"},
		{"component: trailing garbage", "component", `{"sender": "Prober", "reciever": "IntSummator", "message": {"type": "ping"}, "message_id": "trail-2", "answer_to": null}}`, "trail-2", "data after the JSON object"},
	}
	for _, c := range broken {
		t.Run(c.name, func(t *testing.T) {
			if c.queue == "send" {
				prober.send(t, c.body)
			} else {
				prober.publish(t, wire.RecieveQueue(wire.SessionID("IntSummator")), c.body)
			}
			env, err := wire.Decode(prober.answer(t, c.id), 0)
			if err != nil || env.Reciever != "Prober" || !strings.Contains(string(env.Message), c.want) {
				t.Fatalf("answer %s (%v), want %q", env.Message, err, c.want)
			}
			if want := map[bool]string{true: wire.RegistryName, false: "IntSummator"}[c.queue == "send"]; env.Sender != want {
				t.Fatalf("answered by %q, want %q", env.Sender, want)
			}
		})
	}
}

func receiverOf(method string) string {
	if method == "int_sum" {
		return "IntSummator"
	}
	return "Floats"
}
