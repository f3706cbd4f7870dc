package component_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/internal/testkit/testlog"
	"github.com/at-technology/atqueue/wire"
)

// Bad requests put straight on a component's queue get an error answer when the sender
// can be identified, are dropped otherwise, and never stop the component.
func TestBadInputOnComponentQueue(t *testing.T) {
	rec, sys := recordedSystem(t, actors.WithLogger(testlog.New(t)))
	ctx := ctxT(t)
	target, err := sys.Spawn(ctx, summator(component.WithMaxBody(4096)))
	if err != nil {
		t.Fatal(err)
	}
	caller, err := sys.Spawn(ctx, component.New("Caller"))
	if err != nil {
		t.Fatal(err)
	}
	rec.watchAnswers(target.Name())

	id := ""
	env := func(message string) string {
		return `{"sender": "Prober", "reciever": "IntSummator", "message": ` + message + `, "message_id": "ID", "answer_to": null}`
	}
	cases := []struct {
		name, body string
		answered   bool
		errorType  string
		text       string
	}{
		{"not json", `{{{`, false, "", ""},
		{"invalid utf-8", "{\"sender\": \"\xff\"}", false, "", ""},
		{"json array", `[1, 2]`, false, "", ""},
		{"message null", env(`null`), true, component.ProcessMessageException, `"message" must be a JSON object`},
		{"message id number", `{"sender": "Prober", "reciever": "IntSummator", "message": {}, "message_id": 5, "answer_to": null}`, false, "", ""},
		{"no type", env(`{}`), true, component.ProcessMessageException, "unknown type"},
		{"unknown type", env(`{"type": "dance"}`), true, component.ProcessMessageException, `unknown type "dance"`},
		{"exec without method", env(`{"type": "exec_method", "args": {}}`), true, component.ExecMethodException, "without a method name"},
		{"args null", env(`{"type": "exec_method", "method": "int_sum", "args": null}`), true, component.ExecMethodException, `"args" is not an object`},
		{"args list", env(`{"type": "exec_method", "method": "int_sum", "args": [1]}`), true, component.ExecMethodException, `"args" is not an object`},
		{"extra arg to no-arg method", env(`{"type": "exec_method", "method": "fail", "args": {"x": 1}}`), true, component.MethodArgumentSchemaException, "extra fields not permitted"},
		{"configurate without config", env(`{"type": "configurate"}`), true, component.ProcessMessageException, `without a "config" object`},
		{"deeply nested", env(`{"type": "exec_method", "method": "int_sum", "args": {"a": ` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}}`), true, component.ProcessMessageException, "nested too deeply"},
		{"id after deep part", `{"sender": "Prober", "reciever": "IntSummator", "message": {"a": ` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}, "answer_to": null, "message_id": "ID"}`, true, component.ProcessMessageException, "nested too deeply"},
		{"trailing data", env(`{"type": "ping"}`) + `]`, true, component.ProcessMessageException, "data after the JSON object"},
		{"bad token", env(`{"type": "ping", "x": nan}`), true, component.ProcessMessageException, "invalid JSON at byte"},
		{"broken answer", `{"sender": "Prober", "reciever": "IntSummator", "message": {"x": nan}, "message_id": "ID", "answer_to": "q"}`, false, "", ""},
		{"Infinity for an int", env(`{"type": "exec_method", "method": "int_sum", "args": {"a": Infinity, "b": 1}}`), true, component.MethodArgumentSchemaException, "value is not a valid integer"},
		{"NaN for an unknown method", env(`{"type": "exec_method", "method": "nope", "args": {"a": NaN}}`), true, component.ExecMethodException, "unknown method name"},
		{"too large", env(`{"type": "ping", "pad": "` + strings.Repeat("x", 8192) + `"}`), true, component.ProcessMessageException, "too large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id = "m-" + c.name // distinct ids: a repeated id would be answered from memory
			body := strings.Replace(c.body, `"ID"`, `"`+id+`"`, 1)
			rec.Embedded.Publish(wire.RecieveQueue(target.SessionID()), []byte(body), nil, nil)
			// A ping from the caller follows the bad message through the same queue: once it
			// is answered, the bad message has been handled.
			if err := caller.Ping(ctx, "IntSummator"); err != nil {
				t.Fatalf("the component stopped answering: %v", err)
			}
			var answer []byte
			for answer == nil {
				select {
				case b := <-rec.got:
					if e, err := wire.Decode(b, 0); err == nil && e.AnswerTo == id {
						answer = b
					}
				case <-time.After(200 * time.Millisecond):
					if c.answered {
						t.Fatal("no error answer")
					}
					return
				}
			}
			if !c.answered {
				t.Fatalf("unexpected answer %s", answer)
			}
			e, _ := wire.Decode(answer, 0)
			a, _ := wire.DecodeAnswer(e.Message)
			if e.Reciever != "Prober" || !a.HasErrors || len(a.Errors) == 0 || a.Errors[0].Type != c.errorType || !strings.Contains(a.Errors[0].Text, c.text) {
				t.Fatalf("answer %s", answer)
			}
		})
	}
	var sum int
	if err := caller.Call(ctx, "IntSummator", "int_sum", json.RawMessage(`{"a": 1, "b": 2}`), &sum); err != nil || sum != 3 {
		t.Fatalf("after bad input: %d %v", sum, err)
	}
}
