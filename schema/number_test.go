package schema_test

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/at-technology/atqueue/schema"
	"github.com/at-technology/atqueue/wire"
)

// one is a method with a single argument v of type T.
type one[T any] struct {
	V T `json:"v"`
}

// The number table of docs/numbers.md: pydantic v2's lax mode on the values json.loads
// makes, and what a Go type cannot hold refused at its location. want is the coerced
// value as the component passes it on, or "!" and the issue's message.
func TestValidateNumbers(t *testing.T) {
	huge := "1" + strings.Repeat("0", 400)
	cases := []struct {
		typ       reflect.Type
		in, want  string
		issueType string
	}{
		// int (and the other integer kinds)
		{reflect.TypeFor[one[int]](), `9223372036854775807`, `9223372036854775807`, ""},
		{reflect.TypeFor[one[int]](), `9223372036854775808`, `!ensure this value is less than or equal to 9223372036854775807`, "value_error.number.not_le"},
		{reflect.TypeFor[one[int]](), `-9223372036854775809`, `!ensure this value is greater than or equal to -9223372036854775808`, "value_error.number.not_ge"},
		{reflect.TypeFor[one[int]](), `1000000000000000000000000000000`, `!ensure this value is less than or equal to 9223372036854775807`, "value_error.number.not_le"},
		{reflect.TypeFor[one[int]](), `true`, `1`, ""},
		{reflect.TypeFor[one[int]](), `false`, `0`, ""},
		{reflect.TypeFor[one[int]](), `2.0`, `2`, ""},
		{reflect.TypeFor[one[int]](), `1e2`, `100`, ""},
		{reflect.TypeFor[one[int]](), `2.5`, `!value is not a valid integer`, "type_error.integer"},
		{reflect.TypeFor[one[int]](), `1e30`, `!value is not a valid integer`, "type_error.integer"},
		{reflect.TypeFor[one[int]](), `-9.223372036854775808e18`, `!value is not a valid integer`, "type_error.integer"},
		{reflect.TypeFor[one[int]](), `NaN`, `!value is not a valid integer`, "type_error.integer"},
		{reflect.TypeFor[one[int]](), `Infinity`, `!value is not a valid integer`, "type_error.integer"},
		{reflect.TypeFor[one[int]](), `-Infinity`, `!value is not a valid integer`, "type_error.integer"},
		{reflect.TypeFor[one[int]](), `1e400`, `!value is not a valid integer`, "type_error.integer"},
		{reflect.TypeFor[one[int]](), `"12"`, `12`, ""},
		{reflect.TypeFor[one[int]](), `"  12 "`, `12`, ""},
		{reflect.TypeFor[one[int]](), `"+12"`, `12`, ""},
		{reflect.TypeFor[one[int]](), `"-012"`, `-12`, ""},
		{reflect.TypeFor[one[int]](), `"1_000"`, `1000`, ""},
		{reflect.TypeFor[one[int]](), `"12.00"`, `12`, ""},
		{reflect.TypeFor[one[int]](), `"1__000"`, `!value is not a valid integer`, "type_error.integer"},
		{reflect.TypeFor[one[int]](), `"_1"`, `!value is not a valid integer`, "type_error.integer"},
		{reflect.TypeFor[one[int]](), `"12.5"`, `!value is not a valid integer`, "type_error.integer"},
		{reflect.TypeFor[one[int]](), `"1e3"`, `!value is not a valid integer`, "type_error.integer"},
		{reflect.TypeFor[one[int]](), `"１２"`, `!value is not a valid integer`, "type_error.integer"},
		{reflect.TypeFor[one[int]](), `"0x10"`, `!value is not a valid integer`, "type_error.integer"},
		{reflect.TypeFor[one[int]](), `""`, `!value is not a valid integer`, "type_error.integer"},
		{reflect.TypeFor[one[int]](), `"` + strings.Repeat("1", 4301) + `"`, `!value is not a valid integer`, "type_error.integer"},
		{reflect.TypeFor[one[int]](), `"99999999999999999999"`, `!ensure this value is less than or equal to 9223372036854775807`, "value_error.number.not_le"},
		{reflect.TypeFor[one[int8]](), `300`, `!ensure this value is less than or equal to 127`, "value_error.number.not_le"},
		{reflect.TypeFor[one[int8]](), `-129`, `!ensure this value is greater than or equal to -128`, "value_error.number.not_ge"},
		{reflect.TypeFor[one[int8]](), `"-128"`, `-128`, ""},
		{reflect.TypeFor[one[uint]](), `-1`, `!ensure this value is greater than or equal to 0`, "value_error.number.not_ge"},
		{reflect.TypeFor[one[uint64]](), `18446744073709551615`, `18446744073709551615`, ""},
		{reflect.TypeFor[one[uint64]](), `18446744073709551616`, `!ensure this value is less than or equal to 18446744073709551615`, "value_error.number.not_le"},
		{reflect.TypeFor[one[[]uint16]](), `[1, 65536]`, `!ensure this value is less than or equal to 65535`, "value_error.number.not_le"},
		// big.Int: exact, as Python's int
		{reflect.TypeFor[one[big.Int]](), `1000000000000000000000000000000`, `1000000000000000000000000000000`, ""},
		{reflect.TypeFor[one[*big.Int]](), `"-123456789012345678901234567890"`, `-123456789012345678901234567890`, ""},
		{reflect.TypeFor[one[big.Int]](), `true`, `1`, ""},
		{reflect.TypeFor[one[big.Int]](), `1e30`, `!value is not a valid integer`, "type_error.integer"},
		// float64
		{reflect.TypeFor[one[float64]](), `1`, `1`, ""},
		{reflect.TypeFor[one[float64]](), `NaN`, `NaN`, ""},
		{reflect.TypeFor[one[float64]](), `Infinity`, `Infinity`, ""},
		{reflect.TypeFor[one[float64]](), `-Infinity`, `-Infinity`, ""},
		{reflect.TypeFor[one[float64]](), `1e400`, `Infinity`, ""},
		{reflect.TypeFor[one[float64]](), `-1e400`, `-Infinity`, ""},
		{reflect.TypeFor[one[float64]](), `1e-400`, `0`, ""},
		{reflect.TypeFor[one[float64]](), `12345678901234567890123`, `1.2345678901234568e+22`, ""},
		{reflect.TypeFor[one[float64]](), huge, `!value is not a valid float`, "type_error.float"},
		{reflect.TypeFor[one[float64]](), `true`, `1`, ""},
		{reflect.TypeFor[one[float64]](), `" 1.5 "`, `1.5`, ""},
		{reflect.TypeFor[one[float64]](), `"1_000.5"`, `1000.5`, ""},
		{reflect.TypeFor[one[float64]](), `" 1_000.5"`, `!value is not a valid float`, "type_error.float"},
		{reflect.TypeFor[one[float64]](), `".5"`, `0.5`, ""},
		{reflect.TypeFor[one[float64]](), `"inf"`, `Infinity`, ""},
		{reflect.TypeFor[one[float64]](), `"-Infinity"`, `-Infinity`, ""},
		{reflect.TypeFor[one[float64]](), `"nan"`, `NaN`, ""},
		{reflect.TypeFor[one[float64]](), `"1e400"`, `Infinity`, ""},
		{reflect.TypeFor[one[float64]](), `"１.５"`, `!value is not a valid float`, "type_error.float"},
		{reflect.TypeFor[one[float64]](), `"0x10"`, `!value is not a valid float`, "type_error.float"},
		{reflect.TypeFor[one[float64]](), `"1e"`, `!value is not a valid float`, "type_error.float"},
		{reflect.TypeFor[one[float32]](), `1e39`, `!ensure this value is less than or equal to 3.4028234663852886e+38`, "value_error.number.not_le"},
		{reflect.TypeFor[one[float32]](), `-1e39`, `!ensure this value is greater than or equal to -3.4028234663852886e+38`, "value_error.number.not_ge"},
		{reflect.TypeFor[one[float32]](), `-Infinity`, `-Infinity`, ""},
		// json.Number: the digits sent
		{reflect.TypeFor[one[json.Number]](), `12345678901234567890123456789.5`, `12345678901234567890123456789.5`, ""},
		{reflect.TypeFor[one[json.Number]](), `1e400`, `Infinity`, ""},
		{reflect.TypeFor[one[json.Number]](), `"2.5"`, `2.5`, ""},
		// str and bool
		{reflect.TypeFor[one[string]](), `12`, `!str type expected`, "type_error.str"},
		{reflect.TypeFor[one[string]](), `true`, `!str type expected`, "type_error.str"},
		{reflect.TypeFor[one[string]](), `NaN`, `!str type expected`, "type_error.str"},
		{reflect.TypeFor[one[bool]](), `1`, `true`, ""},
		{reflect.TypeFor[one[bool]](), `0.0`, `false`, ""},
		{reflect.TypeFor[one[bool]](), `2`, `!value could not be parsed to a boolean`, "type_error.bool"},
		{reflect.TypeFor[one[bool]](), `NaN`, `!value could not be parsed to a boolean`, "type_error.bool"},
		{reflect.TypeFor[one[bool]](), `"YES"`, `true`, ""},
		{reflect.TypeFor[one[bool]](), `"1.0"`, `!value could not be parsed to a boolean`, "type_error.bool"},
		// Any: what json.loads made
		{reflect.TypeFor[one[any]](), `NaN`, `NaN`, ""},
		{reflect.TypeFor[one[any]](), `1e400`, `Infinity`, ""},
		{reflect.TypeFor[one[any]](), `[-1e400, 100000000000000000000000]`, `[-Infinity,100000000000000000000000]`, ""},
	}
	for _, c := range cases {
		t.Run(c.typ.String()+" "+c.in, func(t *testing.T) {
			v := mustValidator(t, c.typ, false)
			got, err := v.Validate(decode(t, `{"v": `+c.in+`}`))
			if !strings.HasPrefix(c.want, "!") {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				raw, err := wire.Compact(got["v"])
				if err != nil || string(raw) != c.want {
					t.Fatalf("coerced to %s (%v), want %s", raw, err, c.want)
				}
				whole, _ := wire.Compact(got)
				if err := wire.Unmarshal(whole, reflect.New(c.typ).Interface()); err != nil {
					t.Fatalf("%s does not decode into %v: %v", whole, c.typ, err)
				}
				return
			}
			var ve *schema.ValidationError
			if !errors.As(err, &ve) || len(ve.Issues) != 1 {
				t.Fatalf("err = %v (result %v), want one issue", err, got)
			}
			if is := ve.Issues[0]; is.Loc[0] != "v" || is.Msg != c.want[1:] || is.Type != c.issueType {
				t.Fatalf("issue %+v, want %q %q", is, c.want[1:], c.issueType)
			}
		})
	}
}

// A value beyond the Go type's range is reported with pydantic's ctx, as v1 writes a
// conint(le=...) failure.
func TestValidateLimitJSON(t *testing.T) {
	v := mustValidator(t, reflect.TypeFor[struct {
		A int8    `json:"a"`
		B float32 `json:"b"`
	}](), false)
	_, err := v.Validate(decode(t, `{"a": 128, "b": -1e300}`))
	var ve *schema.ValidationError
	if !errors.As(err, &ve) {
		t.Fatal(err)
	}
	want := "[\n    {\n        \"loc\": [\n            \"a\"\n        ],\n        \"msg\": \"ensure this value is less than or equal to 127\",\n        \"type\": \"value_error.number.not_le\",\n        \"ctx\": {\n            \"limit_value\": 127\n        }\n    },\n" +
		"    {\n        \"loc\": [\n            \"b\"\n        ],\n        \"msg\": \"ensure this value is greater than or equal to -3.4028234663852886e+38\",\n        \"type\": \"value_error.number.not_ge\",\n        \"ctx\": {\n            \"limit_value\": -3.4028234663852886e+38\n        }\n    }\n]"
	if got := ve.PydanticJSON(); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if !json.Valid([]byte(ve.PydanticJSON())) {
		t.Fatal("not JSON")
	}
}

// big.Int and json.Number are described as Python's int and float; Go values of them
// are accepted as arguments.
func TestBigIntInputs(t *testing.T) {
	type args struct {
		A big.Int     `json:"a"`
		B *big.Int    `json:"b"`
		N json.Number `json:"n" default:"1.5"`
		D big.Int     `json:"d" default:"12345678901234567890123"`
	}
	inputs, err := schema.Inputs(reflect.TypeFor[args]())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`a true {"title":"A","type":"integer"}`,
		`b false {"title":"B","type":"integer"}`,
		`n false {"title":"N","default":1.5,"type":"number"}`,
		`d false {"title":"D","default":12345678901234567890123,"type":"integer"}`,
	}
	for i, in := range inputs {
		if got := in.Name + " " + map[bool]string{true: "true", false: "false"}[in.Required] + " " + string(in.Schema); got != want[i] {
			t.Errorf("input %d: %s, want %s", i, got, want[i])
		}
	}
	out, err := schema.Output(reflect.TypeFor[*big.Int]())
	if err != nil || string(out) != `{"title":"Result","type":"integer"}` {
		t.Fatalf("output %s %v", out, err)
	}
	v := mustValidator(t, reflect.TypeFor[args](), false)
	b, _ := new(big.Int).SetString("-99999999999999999999999", 10)
	got, err := v.Validate(map[string]any{"a": *big.NewInt(7), "b": b, "n": math.Inf(1)})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := wire.Compact(got)
	if string(raw) != `{"a":7,"b":-99999999999999999999999,"d":12345678901234567890123,"n":Infinity}` {
		t.Fatalf("got %s", raw)
	}
	var a args
	if err := wire.Unmarshal(raw, &a); err != nil || a.B.String() != b.String() || a.D.String() != "12345678901234567890123" || a.N != "Infinity" {
		t.Fatalf("decoded %+v, %v", a, err)
	}
}
