package schema_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/at-technology/atqueue/internal/testkit/golden"
	"github.com/at-technology/atqueue/schema"
	"github.com/at-technology/atqueue/wire"
)

type goldenInput struct {
	Name     string          `json:"name"`
	Required bool            `json:"required"`
	Schema   json.RawMessage `json:"schema"`
}

type goldenMethod struct {
	Inputs map[string]goldenInput `json:"inputs"`
	Output struct {
		Schema json.RawMessage `json:"schema"`
	} `json:"output"`
}

// goldenMethods reads the methods of a golden register request.
func goldenMethods(t *testing.T, file string) map[string]goldenMethod {
	t.Helper()
	raw := golden.Read(t, file)
	var env struct {
		Message struct {
			Component struct {
				Methods map[string]goldenMethod `json:"methods"`
			} `json:"component"`
		} `json:"message"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	return env.Message.Component.Methods
}

// goldenErrorMessage reads the error_message text of a golden error answer.
func goldenErrorMessage(t *testing.T, file string) string {
	t.Helper()
	raw := golden.Read(t, file)
	var env struct {
		Message struct {
			Errors []struct {
				ErrorMessage string `json:"error_message"`
			} `json:"errors"`
		} `json:"message"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	if len(env.Message.Errors) != 1 {
		t.Fatalf("%s: want one error, got %d", file, len(env.Message.Errors))
	}
	return env.Message.Errors[0].ErrorMessage
}

func compactJSON(t *testing.T, raw []byte) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatalf("compact %s: %v", raw, err)
	}
	return b.String()
}

// The argument and result types of the golden IntSummator and ProbeTarget components.
type (
	intSumArgs struct {
		A int `json:"a"`
		B int `json:"b"`
	}
	echoArgs struct {
		Text  string   `json:"text"`
		Times int      `json:"times" default:"1"`
		Tags  []string `json:"tags,omitempty"`
	}
	boomArgs struct {
		X int `json:"x"`
	}
	Point struct {
		X int `json:"x"`
		Y int `json:"y" default:"0"`
	}
	pointArgs struct {
		P Point `json:"p"`
	}
	secretArgs struct {
		X int `json:"x" default:"0"`
	}
	untypedArgs struct {
		Value any `json:"value"`
	}
	whoamiArgs struct {
		Suffix string `json:"suffix" default:""`
	}
)

func TestGoldenDescriptions(t *testing.T) {
	type method struct {
		args, result reflect.Type
	}
	tests := []struct {
		file    string
		methods map[string]method
	}{
		{"register_request.json", map[string]method{
			"int_sum": {reflect.TypeFor[intSumArgs](), reflect.TypeFor[int]()},
		}},
		{"register_request_probe_target.json", map[string]method{
			"async_echo": {reflect.TypeFor[echoArgs](), reflect.TypeFor[map[string]any]()},
			"boom":       {reflect.TypeFor[*boomArgs](), reflect.TypeFor[int]()},
			"make_point": {reflect.TypeFor[pointArgs](), reflect.TypeFor[Point]()},
			"no_args":    {reflect.TypeFor[struct{}](), reflect.TypeFor[string]()},
			"secret":     {reflect.TypeFor[secretArgs](), reflect.TypeFor[string]()},
			"untyped":    {reflect.TypeFor[untypedArgs](), nil},
			"whoami":     {reflect.TypeFor[whoamiArgs](), reflect.TypeFor[string]()},
		}},
	}
	for _, tt := range tests {
		golden := goldenMethods(t, tt.file)
		for name, m := range tt.methods {
			t.Run(name, func(t *testing.T) {
				want, ok := golden[name]
				if !ok {
					t.Fatalf("%s has no method %s", tt.file, name)
				}
				inputs, err := schema.Inputs(m.args)
				if err != nil {
					t.Fatal(err)
				}
				if len(inputs) != len(want.Inputs) {
					t.Fatalf("got %d inputs, want %d", len(inputs), len(want.Inputs))
				}
				for _, in := range inputs {
					w, ok := want.Inputs[in.Name]
					if !ok {
						t.Fatalf("unexpected input %q", in.Name)
					}
					if in.Required != w.Required {
						t.Errorf("%s: required %v, want %v", in.Name, in.Required, w.Required)
					}
					if got, want := string(in.Schema), compactJSON(t, w.Schema); got != want {
						t.Errorf("%s: schema\n got %s\nwant %s", in.Name, got, want)
					}
				}
				out, err := schema.Output(m.result)
				if err != nil {
					t.Fatal(err)
				}
				if got, want := string(out), compactJSON(t, want.Output.Schema); got != want {
					t.Errorf("output schema\n got %s\nwant %s", got, want)
				}
			})
		}
	}
}

func TestTitle(t *testing.T) {
	tests := map[string]string{
		"a": "A", "int_sum": "Int Sum", "auth_token": "Auth Token", "value": "Value",
		"userID": "Userid", "x2y": "X2Y", "_private": " Private", "": "", "été": "Été",
	}
	for in, want := range tests {
		if got := schema.Title(in); got != want {
			t.Errorf("Title(%q) = %q, want %q", in, got, want)
		}
	}
}

type (
	Inner struct {
		N float64 `json:"n"`
	}
	Base struct {
		ID string `json:"id"`
	}
	richArgs struct {
		Base
		Count  uint8             `json:"count" desc:"how many"`
		Ratio  float32           `json:"ratio" default:"1.0"`
		Flag   *bool             `json:"flag"`
		Names  map[string]string `json:"names"`
		Any    map[string]any    `json:"any,omitempty"`
		Raw    json.RawMessage   `json:"raw,omitempty"`
		When   time.Time         `json:"when,omitempty"`
		Blob   []byte            `json:"blob,omitempty"`
		Pair   [2]int            `json:"pair,omitempty"`
		Inners []Inner           `json:"inners,omitempty"`
		ByName map[string]*Inner `json:"by_name,omitempty"`
		Desc   Inner             `json:"desc_inner" desc:"an inner"`
		Def    Inner             `json:"def_inner" default:"{\"n\":2}"`
		Anon   struct{ Z int }   `json:"anon"`
		Hidden int               `json:"-"`
		//lint:ignore U1000 an unexported field must be skipped
		private int
		Matrix  [][]float64         `json:"matrix,omitempty"`
		Label   string              `json:"label" default:"a <b> c"`
		Labels  []string            `json:"labels" default:"[\"x\"]"`
		Empties map[string]struct{} `json:"empties,omitempty"`
	}
)

func TestInputsShapes(t *testing.T) {
	inputs, err := schema.Inputs(reflect.TypeFor[richArgs]())
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name     string
		required bool
		schema   string
	}{
		{"id", true, `{"title":"Id","type":"string"}`},
		{"count", true, `{"title":"Count","description":"how many","type":"integer"}`},
		{"ratio", false, `{"title":"Ratio","default":1.0,"type":"number"}`},
		{"flag", false, `{"title":"Flag","type":"boolean"}`},
		{"names", true, `{"title":"Names","type":"object","additionalProperties":{"type":"string"}}`},
		{"any", false, `{"title":"Any","type":"object"}`},
		{"raw", false, `{"title":"Raw"}`},
		{"when", false, `{"title":"When","type":"string","format":"date-time"}`},
		{"blob", false, `{"title":"Blob","type":"string","format":"binary"}`},
		{"pair", false, `{"title":"Pair","type":"array","items":{"type":"integer"},"minItems":2,"maxItems":2}`},
		{"inners", false, `{"title":"Inners","type":"array","items":{"title":"Inner","type":"object","properties":{"n":{"title":"N","type":"number"}},"required":["n"]}}`},
		{"by_name", false, `{"title":"By Name","type":"object","additionalProperties":{"title":"Inner","type":"object","properties":{"n":{"title":"N","type":"number"}},"required":["n"]}}`},
		{"desc_inner", true, `{"title":"Desc Inner","description":"an inner","allOf":[{"title":"Inner","type":"object","properties":{"n":{"title":"N","type":"number"}},"required":["n"]}]}`},
		{"def_inner", false, `{"title":"Def Inner","default":{"n":2},"allOf":[{"title":"Inner","type":"object","properties":{"n":{"title":"N","type":"number"}},"required":["n"]}]}`},
		{"anon", true, `{"title":"Anon","type":"object","properties":{"Z":{"title":"Z","type":"integer"}},"required":["Z"]}`},
		{"matrix", false, `{"title":"Matrix","type":"array","items":{"type":"array","items":{"type":"number"}}}`},
		{"label", false, `{"title":"Label","default":"a <b> c","type":"string"}`},
		{"labels", false, `{"title":"Labels","default":["x"],"type":"array","items":{"type":"string"}}`},
		{"empties", false, `{"title":"Empties","type":"object","additionalProperties":{"title":"Empties","type":"object","properties":{}}}`},
	}
	if len(inputs) != len(want) {
		for _, in := range inputs {
			t.Logf("%s %s", in.Name, in.Schema)
		}
		t.Fatalf("got %d inputs, want %d", len(inputs), len(want))
	}
	for i, w := range want {
		in := inputs[i]
		if in.Name != w.name || in.Required != w.required || string(in.Schema) != w.schema {
			t.Errorf("input %d:\n got %s %v %s\nwant %s %v %s", i, in.Name, in.Required, in.Schema, w.name, w.required, w.schema)
		}
	}
	if inputs[1].Description != "how many" {
		t.Errorf("description %q", inputs[1].Description)
	}
}

func TestInputsEmpty(t *testing.T) {
	for _, typ := range []reflect.Type{nil, reflect.TypeFor[struct{}](), reflect.TypeFor[*struct{}]()} {
		inputs, err := schema.Inputs(typ)
		if err != nil || len(inputs) != 0 {
			t.Errorf("Inputs(%v) = %v, %v; want no inputs", typ, inputs, err)
		}
	}
}

type (
	recursive struct {
		Next *recursive `json:"next"`
	}
	recursiveArgs struct {
		R recursive `json:"r"`
	}
	mutualA struct {
		B []mutualB `json:"b"`
	}
	mutualB struct {
		A map[string]mutualA `json:"a"`
	}
	Chain struct {
		*Chain
		X int
	}
)

func TestInputsUnsupported(t *testing.T) {
	tests := map[string]reflect.Type{
		"not a struct":   reflect.TypeFor[int](),
		"chan":           reflect.TypeFor[struct{ C chan int }](),
		"func":           reflect.TypeFor[struct{ F func() }](),
		"complex":        reflect.TypeFor[struct{ C complex128 }](),
		"unsafe pointer": reflect.TypeFor[struct{ P unsafe.Pointer }](),
		"interface":      reflect.TypeFor[struct{ E error }](),
		"int map keys":   reflect.TypeFor[struct{ M map[int]string }](),
		"duplicate": reflect.TypeFor[struct {
			A int
			B int `json:"A"`
		}](),
		"embedded dup": reflect.TypeFor[struct {
			Base
			ID int `json:"id"`
		}](),
		"recursive":      reflect.TypeFor[recursiveArgs](),
		"recursive self": reflect.TypeFor[recursive](),
		"mutual":         reflect.TypeFor[mutualA](),
		"embedded self":  reflect.TypeFor[Chain](),
		"bad default": reflect.TypeFor[struct {
			N int `default:"x"`
		}](),
		"string option": reflect.TypeFor[struct {
			N int `json:"n,string"`
		}](),
		"nested bad type": reflect.TypeFor[struct{ L []chan int }](),
	}
	for name, typ := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := schema.Inputs(typ)
			if !errors.Is(err, schema.ErrUnsupported) {
				t.Fatalf("err = %v, want ErrUnsupported", err)
			}
		})
	}
	if _, err := schema.Output(reflect.TypeFor[recursive]()); !errors.Is(err, schema.ErrUnsupported) {
		t.Errorf("Output(recursive) err = %v", err)
	}
}

func TestOutput(t *testing.T) {
	tests := []struct {
		typ  reflect.Type
		want string
	}{
		{nil, `null`},
		{reflect.TypeFor[int](), `{"title":"Result","type":"integer"}`},
		{reflect.TypeFor[*float64](), `{"title":"Result","type":"number"}`},
		{reflect.TypeFor[map[string]any](), `{"title":"Result","type":"object"}`},
		{reflect.TypeFor[any](), `{"title":"Result"}`},
		{reflect.TypeFor[[]Point](), `{"title":"Result","type":"array","items":{"title":"Point","type":"object","properties":{"x":{"title":"X","type":"integer"},"y":{"title":"Y","default":0,"type":"integer"}},"required":["x"]}}`},
		{reflect.TypeFor[struct{ A int }](), `{"title":"Result","type":"object","properties":{"A":{"title":"A","type":"integer"}},"required":["A"]}`},
	}
	for _, tt := range tests {
		got, err := schema.Output(tt.typ)
		if err != nil {
			t.Fatalf("Output(%v): %v", tt.typ, err)
		}
		if string(got) != tt.want {
			t.Errorf("Output(%v)\n got %s\nwant %s", tt.typ, got, tt.want)
		}
	}
}

func mustValidator(t testing.TB, args reflect.Type, allowExtra bool) *schema.Validator {
	t.Helper()
	inputs, err := schema.Inputs(args)
	if err != nil {
		t.Fatal(err)
	}
	v, err := schema.Compile(inputs, allowExtra)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// decode reads JSON the way a component does: numbers as json.Number, Python's NaN and
// Infinity as float64.
func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := wire.UnmarshalNumbers([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestValidateGoldenErrors(t *testing.T) {
	v := mustValidator(t, reflect.TypeFor[intSumArgs](), false)
	tests := []struct {
		args, file, argument, text string
	}{
		{`{"a": 5, "b": "b"}`, "exec_validation_error.json", "b", "b: value is not a valid integer"},
		{`{"a": 1}`, "exec_missing_arg_answer.json", "b", "b: field required"},
		{`{"a": 1, "b": 2, "c": 3}`, "exec_extra_arg_answer.json", "c", "c: extra fields not permitted"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := v.Validate(decode(t, tt.args))
			var ve *schema.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want *ValidationError", err)
			}
			if len(ve.Issues) != 1 {
				t.Fatalf("issues = %+v, want exactly one", ve.Issues)
			}
			if got, want := ve.PydanticJSON(), goldenErrorMessage(t, tt.file); got != want {
				t.Errorf("PydanticJSON\n got %q\nwant %q", got, want)
			}
			if got := ve.Argument(); got != tt.argument {
				t.Errorf("Argument() = %q, want %q", got, tt.argument)
			}
			if got := ve.Error(); got != tt.text {
				t.Errorf("Error() = %q, want %q", got, tt.text)
			}
		})
	}
	t.Run("exec_no_args_field_answer.json", func(t *testing.T) {
		_, err := v.Validate(nil)
		var ve *schema.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("err = %v", err)
		}
		if got, want := ve.PydanticJSON(), goldenErrorMessage(t, "exec_no_args_field_answer.json"); got != want {
			t.Errorf("PydanticJSON\n got %q\nwant %q", got, want)
		}
	})
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name       string
		args       reflect.Type
		allowExtra bool
		in         string
		want       string   // JSON of the coerced arguments
		issues     []string // "loc|msg|type", loc elements joined with "."
	}{
		{"numeric string", reflect.TypeFor[intSumArgs](), false, `{"a": 1, "b": "2"}`, `{"a":1,"b":2}`, nil},
		{"padded numeric string", reflect.TypeFor[intSumArgs](), false, `{"a": " 7 ", "b": -3}`, `{"a":7,"b":-3}`, nil},
		{"integral float", reflect.TypeFor[intSumArgs](), false, `{"a": 5.0, "b": 1e2}`, `{"a":5,"b":100}`, nil},
		{"fraction", reflect.TypeFor[intSumArgs](), false, `{"a": 5.5, "b": "1.5"}`, ``, []string{
			"a|value is not a valid integer|type_error.integer",
			"b|value is not a valid integer|type_error.integer"}},
		{"bool is an int", reflect.TypeFor[intSumArgs](), false, `{"a": true, "b": false}`, `{"a":1,"b":0}`, nil},
		{"overflow", reflect.TypeFor[intSumArgs](), false, `{"a": 1e300, "b": "99999999999999999999"}`, ``, []string{
			"a|value is not a valid integer|type_error.integer",
			"b|ensure this value is less than or equal to 9223372036854775807|value_error.number.not_le"}},
		{"null required", reflect.TypeFor[intSumArgs](), false, `{"a": null, "b": 1}`, ``, []string{
			"a|none is not an allowed value|type_error.none.not_allowed"}},
		{"all issues in input order", reflect.TypeFor[intSumArgs](), false, `{"z": 1, "b": [], "y": 2}`, ``, []string{
			"a|field required|value_error.missing",
			"b|value is not a valid integer|type_error.integer",
			"y|extra fields not permitted|value_error.extra",
			"z|extra fields not permitted|value_error.extra"}},
		{"defaults filled", reflect.TypeFor[echoArgs](), false, `{"text": "ab"}`, `{"text":"ab","times":1}`, nil},
		{"optional null", reflect.TypeFor[echoArgs](), false, `{"text": "ab", "times": 2, "tags": null}`, `{"tags":null,"text":"ab","times":2}`, nil},
		{"string rejects number", reflect.TypeFor[echoArgs](), false, `{"text": 12}`, ``, []string{
			"text|str type expected|type_error.str"}},
		{"list item loc", reflect.TypeFor[echoArgs](), false, `{"text": "x", "tags": ["a", 2, "c", {}]}`, ``, []string{
			"tags.1|str type expected|type_error.str",
			"tags.3|str type expected|type_error.str"}},
		{"not a list", reflect.TypeFor[echoArgs](), false, `{"text": "x", "tags": "a"}`, ``, []string{
			"tags|value is not a valid list|type_error.list"}},
		{"default not null", reflect.TypeFor[echoArgs](), false, `{"text": "x", "times": null}`, ``, []string{
			"times|none is not an allowed value|type_error.none.not_allowed"}},
		{"nested default", reflect.TypeFor[pointArgs](), false, `{"p": {"x": "1"}}`, `{"p":{"x":1,"y":0}}`, nil},
		{"nested extra ignored", reflect.TypeFor[pointArgs](), false, `{"p": {"x": 1, "y": 2, "z": 3}}`, `{"p":{"x":1,"y":2}}`, nil},
		{"nested loc", reflect.TypeFor[pointArgs](), false, `{"p": {"x": "one", "y": []}}`, ``, []string{
			"p.x|value is not a valid integer|type_error.integer",
			"p.y|value is not a valid integer|type_error.integer"}},
		{"nested missing", reflect.TypeFor[pointArgs](), false, `{"p": {}}`, ``, []string{
			"p.x|field required|value_error.missing"}},
		{"nested not a dict", reflect.TypeFor[pointArgs](), false, `{"p": [1]}`, ``, []string{
			"p|value is not a valid dict|type_error.dict"}},
		{"untyped with kwargs", reflect.TypeFor[untypedArgs](), true, `{"value": [1, 2.5, {"k": null}], "k": "v"}`, `{"k":"v","value":[1,2.5,{"k":null}]}`, nil},
		{"untyped null", reflect.TypeFor[untypedArgs](), false, `{"value": null}`, `{"value":null}`, nil},
		{"untyped missing", reflect.TypeFor[untypedArgs](), true, `{}`, ``, []string{
			"value|field required|value_error.missing"}},
		{"untyped big int", reflect.TypeFor[untypedArgs](), false, `{"value": 123456789012345678901234567890}`, `{"value":123456789012345678901234567890}`, nil},
		{"rich ok", reflect.TypeFor[richArgs](), false,
			`{"id": "i", "count": "3", "flag": "yes", "names": {"a": "b"}, "raw": {"r": [1]},
			  "when": "2024-05-06 07:08:09", "blob": "aGk=", "pair": ["1", 2.0],
			  "inners": [{"n": "1.5"}], "by_name": {"k": {"n": 2}}, "desc_inner": {"n": 0},
			  "anon": {"Z": 1}, "matrix": [[1, "2"]], "empties": {"e": {}}}`,
			`{"anon":{"Z":1},"blob":"aGk=","by_name":{"k":{"n":2}},"count":3,"def_inner":{"n":2},"desc_inner":{"n":0},"empties":{"e":{}},"flag":true,"id":"i","inners":[{"n":1.5}],"label":"a <b> c","labels":["x"],"matrix":[[1,2]],"names":{"a":"b"},"pair":[1,2],"ratio":1,"raw":{"r":[1]},"when":"2024-05-06T07:08:09Z"}`,
			nil},
		{"rich issues", reflect.TypeFor[richArgs](), false,
			`{"id": 1, "count": 3, "flag": "maybe", "names": {"a": 1}, "when": "yesterday", "blob": "!!",
			  "pair": [1, 2, 3], "inners": [{"n": "NaN?"}, {"n": "infinit"}], "desc_inner": null, "anon": {"Z": 1},
			  "by_name": {"k": {"n": []}}, "def_inner": {}, "ratio": "0x10"}`,
			``, []string{
				"id|str type expected|type_error.str",
				"ratio|value is not a valid float|type_error.float",
				"flag|value could not be parsed to a boolean|type_error.bool",
				"names.a|str type expected|type_error.str",
				"when|invalid datetime format|value_error.datetime",
				"blob|value is not valid base64|value_error",
				"pair|ensure this value has at most 2 items|value_error.list.max_items",
				"inners.0.n|value is not a valid float|type_error.float",
				"inners.1.n|value is not a valid float|type_error.float",
				"by_name.k.n|value is not a valid float|type_error.float",
				"desc_inner|none is not an allowed value|type_error.none.not_allowed",
				"def_inner.n|field required|value_error.missing",
			}},
		{"booleans", reflect.TypeFor[struct {
			A, B, C, D, E, F bool
		}](), false, `{"A": "On", "B": 0, "C": "n", "D": 1.0, "E": "TRUE", "F": false}`, `{"A":true,"B":false,"C":false,"D":true,"E":true,"F":false}`, nil},
		{"unix time", reflect.TypeFor[struct{ T time.Time }](), false, `{"T": 1700000000123}`, `{"T":"2023-11-14T22:13:20.123Z"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustValidator(t, tt.args, tt.allowExtra)
			in := decode(t, tt.in)
			got, err := v.Validate(in)
			if tt.issues == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				raw, err := wire.Compact(got)
				if err != nil {
					t.Fatal(err)
				}
				if string(raw) != tt.want {
					t.Errorf("coerced\n got %s\nwant %s", raw, tt.want)
				}
				// The coerced arguments decode into the Args struct.
				if err := wire.Unmarshal(raw, reflect.New(tt.args).Interface()); err != nil {
					t.Errorf("unmarshal into %v: %v", tt.args, err)
				}
				return
			}
			var ve *schema.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v (result %v), want *ValidationError", err, got)
			}
			var issues []string
			for _, is := range ve.Issues {
				var loc []string
				for _, l := range is.Loc {
					loc = append(loc, strings.TrimSpace(strings.Trim(jsonString(l), `"`)))
				}
				issues = append(issues, strings.Join(loc, ".")+"|"+is.Msg+"|"+is.Type)
			}
			if strings.Join(issues, "\n") != strings.Join(tt.issues, "\n") {
				t.Errorf("issues\n got %q\nwant %q", issues, tt.issues)
			}
		})
	}
}

func jsonString(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}

func TestValidateLocTypes(t *testing.T) {
	v := mustValidator(t, reflect.TypeFor[echoArgs](), false)
	_, err := v.Validate(map[string]any{"text": "x", "tags": []any{"a", 2}})
	var ve *schema.ValidationError
	if !errors.As(err, &ve) || len(ve.Issues) != 1 {
		t.Fatalf("err = %v", err)
	}
	if want := []any{"tags", 1}; !reflect.DeepEqual(ve.Issues[0].Loc, want) {
		t.Errorf("loc = %#v, want %#v", ve.Issues[0].Loc, want)
	}
	want := "[\n    {\n        \"loc\": [\n            \"tags\",\n            1\n        ],\n        \"msg\": \"str type expected\",\n        \"type\": \"type_error.str\"\n    }\n]"
	if got := ve.PydanticJSON(); got != want {
		t.Errorf("PydanticJSON\n got %q\nwant %q", got, want)
	}
}

func TestValidateGoValues(t *testing.T) {
	v := mustValidator(t, reflect.TypeFor[richArgs](), true)
	flag := true
	got, err := v.Validate(map[string]any{
		"id":         "i",
		"count":      uint64(3),
		"flag":       &flag,
		"names":      map[string]string{"a": "b"},
		"desc_inner": Inner{N: 1},
		"anon":       map[string]int{"Z": 2},
		"raw":        json.RawMessage(`{"x": 1}`),
		"when":       time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		"pair":       [2]float64{1, 2},
		"extra":      []int{1, 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"id": "i", "count": int64(3), "flag": true, "names": map[string]any{"a": "b"},
		"desc_inner": map[string]any{"n": float64(1)}, "anon": map[string]any{"Z": int64(2)},
		"raw": map[string]any{"x": int64(1)}, "when": "2024-01-02T03:04:05Z",
		"pair": []any{int64(1), int64(2)}, "extra": []any{int64(1), int64(2)},
		"ratio": 1.0, "def_inner": map[string]any{"n": float64(2)}, "label": "a <b> c",
		"labels": []any{"x"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	_, err = v.Validate(map[string]any{"id": "i", "count": 1, "names": map[string]any{}, "desc_inner": map[string]any{"n": 1},
		"anon": map[string]any{"Z": 1}, "extra": make(chan int)})
	var ve *schema.ValidationError
	if !errors.As(err, &ve) || len(ve.Issues) != 1 || ve.Argument() != "extra" {
		t.Fatalf("err = %v, want one issue for extra", err)
	}
}

func TestValidateDoesNotModifyInput(t *testing.T) {
	v := mustValidator(t, reflect.TypeFor[pointArgs](), false)
	in := decode(t, `{"p": {"x": "1"}}`)
	out, err := v.Validate(in)
	if err != nil {
		t.Fatal(err)
	}
	if jsonString(in) != `{"p":{"x":"1"}}` {
		t.Errorf("input changed: %s", jsonString(in))
	}
	out["p"].(map[string]any)["y"] = int64(5)
	again, _ := v.Validate(in)
	if jsonString(again) != `{"p":{"x":1,"y":0}}` {
		t.Errorf("default shared between calls: %s", jsonString(again))
	}
}

func TestValidateDepthBound(t *testing.T) {
	deep := strings.Repeat("[", 200) + strings.Repeat("]", 200)
	tests := []struct {
		name string
		args reflect.Type
		in   string
	}{
		{"untyped", reflect.TypeFor[untypedArgs](), `{"value": ` + deep + `}`},
		{"extra", reflect.TypeFor[struct{}](), `{"x": ` + deep + `}`},
		{"map", reflect.TypeFor[struct {
			M map[string]any `json:"m"`
		}](), `{"m": {"k": ` + deep + `}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustValidator(t, tt.args, true)
			_, err := v.Validate(decode(t, tt.in))
			var ve *schema.ValidationError
			if !errors.As(err, &ve) || len(ve.Issues) != 1 {
				t.Fatalf("err = %v, want one issue", err)
			}
			if is := ve.Issues[0]; len(is.Loc) != 65 || !strings.Contains(is.Msg, "deeper than 64") || is.Type != "value_error" {
				t.Errorf("issue = %d-element loc, %q, %q", len(is.Loc), is.Msg, is.Type)
			}
		})
	}
	// A Go map that contains itself stops at the bound too.
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	v := mustValidator(t, reflect.TypeFor[untypedArgs](), false)
	if _, err := v.Validate(map[string]any{"value": cyclic}); err == nil {
		t.Fatal("cyclic value accepted")
	}
}

func TestCompileErrors(t *testing.T) {
	tests := map[string][]schema.Input{
		"no name":     {{Schema: json.RawMessage(`{}`)}},
		"duplicate":   {{Name: "a", Schema: json.RawMessage(`{}`)}, {Name: "a", Schema: json.RawMessage(`{}`)}},
		"not json":    {{Name: "a", Schema: json.RawMessage(`{`)}},
		"not object":  {{Name: "a", Schema: json.RawMessage(`[]`)}},
		"bad keyword": {{Name: "a", Schema: json.RawMessage(`{"type": 5}`)}},
	}
	for name, inputs := range tests {
		if _, err := schema.Compile(inputs, false); !errors.Is(err, schema.ErrUnsupported) {
			t.Errorf("%s: err = %v, want ErrUnsupported", name, err)
		}
	}
}

// Keywords the coercions do not know are still enforced by the compiled JSON Schema.
func TestValidateSchemaAuthority(t *testing.T) {
	v, err := schema.Compile([]schema.Input{
		{Name: "level", Required: true, Schema: json.RawMessage(`{"title":"Level","type":"integer","minimum":1}`)},
		{Name: "mode", Required: true, Schema: json.RawMessage(`{"title":"Mode","enum":["a","b"]}`)},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Validate(decode(t, `{"level": "0", "mode": "c"}`))
	var ve *schema.ValidationError
	if !errors.As(err, &ve) || len(ve.Issues) != 2 {
		t.Fatalf("err = %v, want two issues", err)
	}
	for i, name := range []string{"level", "mode"} {
		if is := ve.Issues[i]; is.Loc[0] != name || is.Type != "value_error" || is.Msg == "" {
			t.Errorf("issue %d = %+v", i, is)
		}
	}
	if got, err := v.Validate(decode(t, `{"level": "3", "mode": "a"}`)); err != nil || got["level"] != int64(3) {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestValidateConcurrent(t *testing.T) {
	v := mustValidator(t, reflect.TypeFor[pointArgs](), false)
	for i := range 8 {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			for range 50 {
				if i%2 == 0 {
					if _, err := v.Validate(map[string]any{"p": map[string]any{"x": "1"}}); err != nil {
						t.Error(err)
					}
				} else if _, err := v.Validate(map[string]any{"p": 1}); err == nil {
					t.Error("invalid accepted")
				}
			}
		})
	}
}

func TestPydanticJSONEscaping(t *testing.T) {
	e := &schema.ValidationError{Issues: []schema.Issue{
		{Loc: []any{"é", 3, "q\"\\\n\x01\x7f😀"}, Msg: "m", Type: "t"},
		{Loc: nil, Msg: "<&>", Type: "value_error"},
	}}
	want := "[\n    {\n        \"loc\": [\n            \"\\u00e9\",\n            3,\n            \"q\\\"\\\\\\n\\u0001\\u007f\\ud83d\\ude00\"\n        ],\n        \"msg\": \"m\",\n        \"type\": \"t\"\n    },\n    {\n        \"loc\": [],\n        \"msg\": \"<&>\",\n        \"type\": \"value_error\"\n    }\n]"
	if got := e.PydanticJSON(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := (&schema.ValidationError{}).PydanticJSON(); got != "[]" {
		t.Errorf("empty: %q", got)
	}
	if got := e.Error(); got != "é.3.q\"\\\n\x01\x7f😀: m; : <&>" {
		t.Errorf("Error() = %q", got)
	}
}
