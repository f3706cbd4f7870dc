package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/console"
	"github.com/at-technology/atqueue/internal/cli"
	"github.com/at-technology/atqueue/internal/testkit/golden"
	"github.com/at-technology/atqueue/wire"
)

// The types of pydantic v1 and v2 schemas, as atq inspect and the console write them.
func TestTypeText(t *testing.T) {
	for schema, want := range map[string]string{
		`{"title": "A", "type": "integer"}`:                               "integer",
		`{"title": "When", "type": "string", "format": "date-time"}`:      "string (date-time)",
		`{"title": "Tags", "type": "array", "items": {"type": "string"}}`: "array of string",
		`{"title": "Value"}`: "any",
		`null`:               "any",
		`{"anyOf": [{"type": "integer"}, {"type": "null"}], "default": null, "title": "X"}`: "integer | null",
		`{"type": ["string", "null"]}`:                                                                                  "string | null",
		`{"anyOf": [{"type": "integer"}, {"type": "string"}]}`:                                                          "integer | string",
		`{"title": "Color", "description": "An enumeration.", "enum": ["red", "green"], "type": "string"}`:              `"red" | "green"`,
		`{"title": "C", "default": "red", "allOf": [{"title": "Color", "enum": ["red", "green"], "type": "string"}]}`:   `"red" | "green"`,
		`{"title": "Point", "type": "object", "properties": {"x": {"type": "integer"}}}`:                                "Point",
		`{"title": "Result", "type": "object"}`:                                                                         "object",
		`{"type": "object", "additionalProperties": {"type": "number"}}`:                                                "object of number",
		`{"type": "array", "items": {"anyOf": [{"title": "P", "type": "object", "properties": {}}, {"type": "null"}]}}`: "array of P | null",
	} {
		if got := typeText(json.RawMessage(schema)); got != want {
			t.Errorf("typeText(%s) = %q, want %q", schema, got, want)
		}
	}
}

// The signatures of the captured Python ProbeTarget: defaults, optional values, a
// nested model, an untyped parameter.
func TestSignaturesOfPythonComponent(t *testing.T) {
	var reg struct {
		Message struct {
			Component struct {
				Methods json.RawMessage `json:"methods"`
			} `json:"component"`
		} `json:"message"`
	}
	if err := json.Unmarshal(golden.Read(t, "register_request_probe_target.json"), &reg); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var rows []string
	for _, kv := range members(reg.Message.Component.Methods) {
		var m method
		if err := json.Unmarshal(kv.value, &m); err != nil {
			t.Fatal(err)
		}
		m.name = kv.key
		got[kv.key] = m.signature()
		for _, r := range argumentRows(m) {
			rows = append(rows, strings.Join(r[:3], " | "))
		}
	}
	for name, want := range map[string]string{
		"async_echo": "async_echo(text: string, times?: integer = 1, tags?: array of string) -> object",
		"make_point": "make_point(p: Point) -> Point",
		"no_args":    "no_args() -> string",
		"untyped":    "untyped(value: any) -> any",
		"secret":     "secret(x?: integer = 0) -> string",
	} {
		if got[name] != want {
			t.Errorf("%s: %q, want %q", name, got[name], want)
		}
	}
	all := strings.Join(rows, "\n")
	for _, want := range []string{"p | Point | required", "p.x | integer | required", "p.y | integer | optional, default 0", "times | integer | optional, default 1"} {
		if !strings.Contains(all, want) {
			t.Errorf("no row %q in\n%s", want, all)
		}
	}
}

func TestCallArgs(t *testing.T) {
	for _, tc := range []struct {
		json  string
		pairs []string
		want  string
	}{
		{"", []string{"a=5", "b=18"}, `{"a":5,"b":18}`},
		{"", []string{"name=Ada", "ok=true", "none=null", "s=", `id="42"`, "x=1.5e3", "t=[1, 2]", `p={"x": 1}`}, `{"name":"Ada","ok":true,"none":null,"s":"","id":"42","x":1.5e3,"t":[1,2],"p":{"x":1}}`},
		{"", []string{"eq=a=b", "sp= 5 ", "word=hello world", "ru=привет"}, `{"eq":"a=b","sp":5,"word":"hello world","ru":"привет"}`},
		{`{"a": 1, "b": 2}`, []string{"b=3", "c=4"}, `{"a":1,"b":3,"c":4}`},
		{`  {}  `, nil, `{}`},
		{"", nil, `{}`},
	} {
		obj, err := callArgs(tc.json, tc.pairs)
		if err != nil {
			t.Errorf("callArgs(%q, %q): %v", tc.json, tc.pairs, err)
			continue
		}
		b, _ := wire.Compact(obj)
		if string(b) != tc.want {
			t.Errorf("callArgs(%q, %q) = %s, want %s", tc.json, tc.pairs, b, tc.want)
		}
	}
	for _, bad := range []struct {
		json  string
		pairs []string
	}{{"", []string{"a"}}, {"", []string{"=5"}}, {"[1]", nil}, {"{", nil}, {`"s"`, nil}} {
		if _, err := callArgs(bad.json, bad.pairs); !errors.Is(err, cli.ErrUsage) {
			t.Errorf("callArgs(%q, %q): %v, want a usage error", bad.json, bad.pairs, err)
		}
	}
}

// Against python -m at_queue, atq ls shows what it can and says what it cannot.
func TestPrintListWithoutLiveness(t *testing.T) {
	var b bytes.Buffer
	printList(&b, console.View{Components: []console.Entry{{Name: "IntSummator", Methods: 1}, {Name: "inspector-1", Methods: 0}}}, time.Now())
	want := "NAME         ALIVE  METHODS  REGISTERED\nIntSummator  ?      1        ?\ninspector-1  ?      0        ?\n" +
		"(the registry does not answer the directory request — python -m at_queue? — so liveness and registration times are unknown)\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	printList(&b, console.View{Liveness: true}, time.Now())
	if b.String() != "no components registered\n" {
		t.Errorf("empty: %q", b.String())
	}
}
