package wire_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/at-technology/atqueue/internal/testkit/golden"
	"github.com/at-technology/atqueue/wire"
)

func TestSessionIDVectors(t *testing.T) {
	cases := map[string]string{
		"at_registry":   wire.RegistrySession,
		"IntSummator":   "3b77ae37-4633-3abc-8d5f-e38581de1aba",
		"SumRequester":  "8c243ec6-d3c0-3b08-baf8-f047f89430b8",
		"SummRequester": "117b8d8e-e021-3542-9274-75106beb4d01",
		"ProbeTarget":   "2ea9e7f5-7837-36bd-95bf-304607379d8d",
		"Сумматор":      "31543506-7676-364b-b45a-b3e2acabafa5",
		"registry":      "0f22fd64-e7d1-3f92-b01e-6b738e8d34dd",
	}
	for name, want := range cases {
		if got := wire.SessionID(name); got != want {
			t.Errorf("SessionID(%q) = %s, want %s", name, got, want)
		}
	}
	if q := wire.RecieveQueue(wire.RegistrySession); q != "recieve-953352fc-f4e1-3f2b-adbb-1a3dc739d8cf" {
		t.Errorf("RecieveQueue = %s", q)
	}
}

// Every golden body decodes, and writing the decoded envelope again gives the same bytes.
func TestGoldenRoundTrip(t *testing.T) {
	dir := golden.Dir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	n := 0
	for _, f := range files {
		base := filepath.Base(f)
		if base == "index.json" || base == "probe_cases.json" {
			continue
		}
		n++
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.TrimRight(body, "\n")
		env, err := wire.Decode(body, 0)
		if err != nil {
			t.Errorf("%s: %v", base, err)
			continue
		}
		out, err := env.Marshal()
		if err != nil {
			t.Errorf("%s: marshal: %v", base, err)
			continue
		}
		if !bytes.Equal(out, body) {
			t.Errorf("%s: byte form differs\n got %s\nwant %s", base, out, body)
		}
	}
	if n < 50 {
		t.Fatalf("only %d golden messages found", n)
	}
}

func TestMarshalPythonForm(t *testing.T) {
	got, err := wire.Marshal(wire.Object{
		{"text", "Сумматор <a&b> \"q\" \\ \n\t\b\f\x01 \u2028"},
		{"n", 1.5},
		{"list", []any{1, "x", nil, true}},
		{"nested", wire.Object{{"z", 1}, {"a", 2}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"text": "Сумматор <a&b> \"q\" \\ \n\t\b\f\u0001 ` + "\u2028" + `", "n": 1.5, "list": [1, "x", null, true], "nested": {"z": 1, "a": 2}}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// Escapes written by other JSON writers are decoded and written the Python way.
	re, err := wire.Reformat([]byte(`{"a":"\u00e9\u003c","b" : [ 1 ,2 ]}`))
	if err != nil || string(re) != `{"a": "é<", "b": [1, 2]}` {
		t.Fatalf("Reformat = %s, %v", re, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	cases := []struct {
		name, body string
		want       error
		sender, id string
	}{
		{"not json", `hello`, wire.ErrMalformed, "", ""},
		{"array", `[1,2]`, wire.ErrMalformed, "", ""},
		{"bad utf8", "{\"sender\": \"\xff\"}", wire.ErrMalformed, "", ""},
		{"message null", `{"sender":"A","reciever":"B","message":null,"message_id":"m1","answer_to":null}`, wire.ErrMalformed, "A", "m1"},
		{"message string", `{"sender":"A","reciever":"B","message":"x","message_id":"m1","answer_to":null}`, wire.ErrMalformed, "A", "m1"},
		{"sender number", `{"sender":5,"reciever":"B","message":{},"message_id":"m1","answer_to":null}`, wire.ErrMalformed, "", "m1"},
		{"no reciever", `{"sender":"A","message":{},"message_id":"m1"}`, wire.ErrMalformed, "A", "m1"},
		{"too large", `{"sender": "A", "reciever": "B", "message_id": "m1", "message": {"x": "` + strings.Repeat("y", 200) + `"}}`, wire.ErrTooLarge, "A", "m1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, err := wire.Decode([]byte(c.body), 100)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if env.Sender != c.sender || env.MessageID != c.id {
				t.Fatalf("identified sender=%q id=%q, want %q %q", env.Sender, env.MessageID, c.sender, c.id)
			}
		})
	}
	env, err := wire.Decode([]byte(`{"sender":"A","reciever":"B","message":{"type":"ping"},"message_id":"m1"}`), 0)
	if err != nil || env.AnswerTo != "" || wire.PeekType(env.Message) != "ping" {
		t.Fatalf("missing answer_to must read as null: %+v %v", env, err)
	}
}

func TestDecodeAnswerMixedErrors(t *testing.T) {
	a, err := wire.DecodeAnswer(json.RawMessage(`{"errors": ["boom 7", {"error_message": "bad", "error_type": "MethodArgumentSchemaException", "argument": "a"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !a.HasErrors || len(a.Errors) != 2 || a.Errors[0].Text != "boom 7" || a.Errors[1].Type != "MethodArgumentSchemaException" || a.Errors[1].Argument != "a" {
		t.Fatalf("%+v", a)
	}
}

func TestHeadersVoidToken(t *testing.T) {
	if _, ok := (wire.Headers{"auth_token": nil}).AuthToken(); ok {
		t.Fatal("a void auth_token must read as no token")
	}
	if tok, ok := (wire.Headers{"auth_token": "tok123"}).AuthToken(); !ok || tok != "tok123" {
		t.Fatal("token lost")
	}
}

func TestPyRepr(t *testing.T) {
	if got := wire.PyRepr([]string{"int_sum", "x"}); got != "['int_sum', 'x']" {
		t.Fatal(got)
	}
}

func TestParseQueue(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sid      string
		send, ok bool
	}{
		{wire.SendQueue(wire.RegistrySession), wire.RegistrySession, true, true},
		{wire.RecieveQueue("3b77ae37-4633-3abc-8d5f-e38581de1aba"), "3b77ae37-4633-3abc-8d5f-e38581de1aba", false, true},
		{"receive-x", "", false, false}, // the correct spelling is not the wire's
		{"send-", "", false, false},
		{"amq.gen-1", "", false, false},
	} {
		sid, send, ok := wire.ParseQueue(tc.name)
		if sid != tc.sid || send != tc.send || ok != tc.ok {
			t.Errorf("ParseQueue(%q) = %q, %t, %t; want %q, %t, %t", tc.name, sid, send, ok, tc.sid, tc.send, tc.ok)
		}
	}
}
