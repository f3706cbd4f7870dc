package wire_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/at-technology/atqueue/wire"
)

// Python's json.dumps writes float('nan'), float('inf') and -inf as NaN, Infinity and
// -Infinity; such bodies are envelopes like any other and keep their bytes.
func TestDecodePythonNonFinite(t *testing.T) {
	body := `{"sender": "Py", "reciever": "Go", "message": {"type": "method_result", "result": [NaN, Infinity, -Infinity, 1e400, "NaN"]}, "message_id": "m1", "answer_to": "r1"}`
	env, err := wire.Decode([]byte(body), 0)
	if err != nil {
		t.Fatal(err)
	}
	out, err := env.Marshal()
	if err != nil || string(out) != body {
		t.Fatalf("re-encoded %s, %v", out, err)
	}
	a, err := wire.DecodeAnswer(env.Message)
	if err != nil || a.Type != wire.TypeMethodResult || string(a.Result) != `[NaN, Infinity, -Infinity, 1e400, "NaN"]` {
		t.Fatalf("answer %+v, %v", a, err)
	}
	var got []any
	if err := wire.Unmarshal(a.Result, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || !math.IsNaN(got[0].(float64)) || !math.IsInf(got[1].(float64), 1) || !math.IsInf(got[2].(float64), -1) ||
		!math.IsInf(got[3].(float64), 1) || got[4] != "NaN" {
		t.Fatalf("decoded %#v", got)
	}
	if typ := wire.PeekType(json.RawMessage(`{"x": NaN, "type": "ping"}`)); typ != "ping" {
		t.Fatalf("PeekType = %q", typ)
	}
	for _, bad := range []string{`nan`, `-NaN`, `+Infinity`, `Inf`, `infinity`, `NaNa`, `[NaN`} {
		body := `{"sender": "Py", "reciever": "Go", "message": {"x": ` + bad + `}, "message_id": "m1", "answer_to": null}`
		if _, err := wire.Decode([]byte(body), 0); !errors.Is(err, wire.ErrMalformed) {
			t.Errorf("%s accepted: %v", bad, err)
		}
	}
}

// A refused body is still answered when its sender and id can be read: they are read
// past the part that failed.
func TestDecodeReadsSenderOfBrokenBody(t *testing.T) {
	deep := strings.Repeat("[", 600) + strings.Repeat("]", 600)
	cases := []struct {
		name, body, text     string
		sender, id, answerTo string
	}{
		{"too deep", `{"sender": "A", "reciever": "B", "message": {"x": ` + deep + `}, "message_id": "m1", "answer_to": null}`, "nested too deeply", "A", "m1", ""},
		{"id after unbalanced part", `{"sender": "A", "message": {"x": [}], "message_id": "m2"}`, "invalid JSON", "A", "m2", ""},
		{"trailing garbage", `{"sender": "A", "reciever": "B", "message": {}, "message_id": "m3", "answer_to": null} xyz`, "data after the JSON object", "A", "m3", ""},
		{"answer with garbage", `{"sender": "A", "reciever": "B", "message": {"r": nan}, "message_id": "m4", "answer_to": "q"}`, "invalid JSON at byte", "A", "m4", "q"},
		{"strings with brackets", `{"message": {"s": "]}\"["}, "sender": "A", "message_id": "m5", "x": tru}`, "invalid JSON", "A", "m5", ""},
		{"cut short", `{"sender": "A", "message_id": "m6", "message": {"a": [1, 2`, "invalid JSON", "A", "m6", ""},
		{"sender not a string", `{"sender": 5, "message_id": "m7", "message": {,}}`, "invalid JSON", "", "m7", ""},
		{"invalid utf-8 sender", "{\"sender\": \"\xff\", \"message_id\": \"m8\"}", "UTF-8", "", "m8", ""},
		{"not an object", `["sender", "A"]`, "not a JSON object", "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, err := wire.Decode([]byte(c.body), 0)
			if !errors.Is(err, wire.ErrMalformed) || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("err = %v, want %q", err, c.text)
			}
			if env.Sender != c.sender || env.MessageID != c.id || env.AnswerTo != c.answerTo {
				t.Fatalf("read sender %q id %q answer_to %q", env.Sender, env.MessageID, env.AnswerTo)
			}
		})
	}
}

type pyFloats struct {
	F    float64            `json:"f"`
	P    *float64           `json:"p"`
	S    float32            `json:"s"`
	L    []float64          `json:"l"`
	M    map[string]float64 `json:"m"`
	A    any                `json:"a"`
	N    json.Number        `json:"n"`
	Arr  [2]float64         `json:"arr"`
	Deep struct {
		Q []map[string]*float64 `json:"q"`
	} `json:"deep"`
	embedded
}

type embedded struct {
	E float64 `json:"e"`
}

func TestUnmarshalNonFinite(t *testing.T) {
	var v pyFloats
	err := wire.Unmarshal([]byte(`{"f": NaN, "p": -Infinity, "s": Infinity, "l": [1, NaN], "m": {"k": -Infinity},
		"a": {"x": [NaN, "Infinity"]}, "n": Infinity, "arr": [0, NaN, Infinity], "deep": {"q": [{"z": NaN}]}, "E": Infinity, "unknown": NaN}`), &v)
	if err != nil {
		t.Fatal(err)
	}
	a := v.A.(map[string]any)["x"].([]any)
	if !math.IsNaN(v.F) || v.P == nil || !math.IsInf(*v.P, -1) || !math.IsInf(float64(v.S), 1) || v.L[0] != 1 || !math.IsNaN(v.L[1]) ||
		!math.IsInf(v.M["k"], -1) || !math.IsNaN(a[0].(float64)) || a[1] != "Infinity" || v.N != "Infinity" ||
		v.Arr[0] != 0 || !math.IsNaN(v.Arr[1]) || !math.IsNaN(*v.Deep.Q[0]["z"]) || !math.IsInf(v.E, 1) {
		t.Fatalf("decoded %+v", v)
	}
	// Numbers as json.Number; a later duplicate key wins, as in encoding/json.
	var m map[string]any
	if err := wire.UnmarshalNumbers([]byte(`{"a": 12345678901234567890, "b": NaN, "c": NaN, "c": 1, "s": "NaN -Infinity"}`), &m); err != nil {
		t.Fatal(err)
	}
	if m["a"] != json.Number("12345678901234567890") || !math.IsNaN(m["b"].(float64)) || m["c"] != json.Number("1") || m["s"] != "NaN -Infinity" {
		t.Fatalf("decoded %#v", m)
	}
	var top float64
	if err := wire.Unmarshal([]byte(` -Infinity `), &top); err != nil || !math.IsInf(top, -1) {
		t.Fatalf("top = %v, %v", top, err)
	}
	// Where a non-finite number cannot go, the error says where it was.
	var ints struct {
		X struct {
			Y []int `json:"y"`
		} `json:"x"`
	}
	err = wire.Unmarshal([]byte(`{"x": {"y": [1, NaN]}}`), &ints)
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) || te.Field != "x.y.1" || te.Value != "number NaN" {
		t.Fatalf("err = %v", err)
	}
	var s string
	if err := wire.Unmarshal([]byte(`NaN`), &s); err == nil {
		t.Fatal("NaN decoded into a string")
	}
	for _, bad := range []string{`{"a": nan}`, `{"a": NaN} x`, `{"a": NaN`, `[NaN,]`} {
		var v any
		if err := wire.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("%s accepted: %#v", bad, v)
		}
	}
}

func TestMarshalNonFinite(t *testing.T) {
	type rec struct {
		F   float64            `json:"f"`
		S   float32            `json:"s"`
		L   []float64          `json:"l"`
		M   map[string]float64 `json:"m"`
		A   any                `json:"a"`
		P   *float64           `json:"p"`
		R   json.RawMessage    `json:"r"`
		N   json.Number        `json:"n"`
		Max float64            `json:"max"`
	}
	inf := math.Inf(1)
	v := rec{F: math.NaN(), S: float32(math.Inf(-1)), L: []float64{1.5, inf}, M: map[string]float64{"k": math.NaN()},
		A: []any{math.Inf(-1), "NaN"}, P: &inf, R: json.RawMessage(`{"x": [NaN, "Infinity"]}`), N: "-Infinity", Max: 7654321.5}
	got, err := wire.Marshal(wire.Object{{Key: "result", Value: v}, {Key: "plain", Value: 7654323.5}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"result": {"f": NaN, "s": -Infinity, "l": [1.5, Infinity], "m": {"k": NaN}, "a": [-Infinity, "NaN"], "p": Infinity, "r": {"x": [NaN, "Infinity"]}, "n": -Infinity, "max": 7654321.5}, "plain": 7654323.5}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if !math.IsNaN(v.F) || !math.IsNaN(v.M["k"]) || v.L[1] != inf {
		t.Fatal("the value was changed")
	}
	// An echoed request with Python's tokens is written back unchanged.
	item := wire.ErrorItem{Raw: json.RawMessage(`{"error_message": "m", "message": {"args": {"a": NaN}}}`)}
	got, err = wire.Compact(wire.ErrorsMessage(item))
	if err != nil || string(got) != `{"errors":[{"error_message":"m","message":{"args":{"a":NaN}}}]}` {
		t.Fatalf("got %s, %v", got, err)
	}
	// A method's result is written as the Object it stands for, the fast way or not.
	for _, res := range []any{[]any{1.5, "x"}, []float64{math.NaN(), inf}} {
		got, err := wire.Marshal(wire.MethodResult{Result: res})
		want, werr := wire.Marshal(wire.Object{{Key: "type", Value: wire.TypeMethodResult}, {Key: "result", Value: res}})
		if err != nil || werr != nil || string(got) != string(want) {
			t.Fatalf("MethodResult %v: got %s, %v; want %s, %v", res, got, err, want, werr)
		}
	}
	if _, err := wire.Compact(map[string]any{"c": make(chan int)}); err == nil {
		t.Fatal("a channel encoded")
	}
}

func TestErrorItemFields(t *testing.T) {
	a, err := wire.DecodeAnswer(json.RawMessage(`{"errors": [{"error_message": "[\n    {\n        \"loc\": [\n            \"b\"\n        ],\n        \"msg\": \"field required\",\n        \"type\": \"value_error.missing\"\n    },\n    {\"loc\": [\"p\", 0], \"msg\": \"x\", \"type\": \"t\", \"input\": NaN},\n    {\"loc\": [\"b\"], \"msg\": \"y\", \"type\": \"t\"}\n]", "error_type": "MethodArgumentSchemaException", "message": {"a": NaN}, "argument": "a"}, "plain"]}`))
	if err != nil || len(a.Errors) != 2 {
		t.Fatalf("%+v %v", a, err)
	}
	it := a.Errors[0]
	if it.Argument != "a" || strings.Join(it.Fields(), ",") != "b,p" || len(it.Issues()) != 3 || it.Issues()[1].Loc[1] != float64(0) {
		t.Fatalf("argument %q fields %q issues %+v", it.Argument, it.Fields(), it.Issues())
	}
	if s := it.Summary(); s != "b: field required; p.0: x; b: y" {
		t.Fatalf("summary %q", s)
	}
	if a.Errors[1].Fields() != nil || a.Errors[1].Text != "plain" {
		t.Fatalf("plain entry %+v", a.Errors[1])
	}
}
