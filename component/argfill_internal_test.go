package component

import (
	"bytes"
	"encoding/json"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/at-technology/atqueue/schema"
	"github.com/at-technology/atqueue/wire"
)

type (
	level     int16
	fillPlain struct {
		A    int     `json:"a"`
		B    int8    `json:"b,omitempty"`
		U    uint16  `json:"u" default:"3"`
		F    float64 `json:"f" default:"1.5"`
		S    string  `json:"s" default:"x"`
		T    bool    `json:"t,omitempty"`
		N    big.Int `json:"n,omitempty"`
		PN   *big.Int
		PI   *int    `json:"pi"`
		PS   *string `json:"ps"`
		L    level   `json:"level,omitempty"`
		Skip int     `json:"-"`
		skip int     //lint:ignore U1000 an unexported field is left alone
	}
	fillNested struct {
		P struct{ X int } `json:"p"`
	}
	fillTime struct {
		When time.Time `json:"when"`
	}
	fillEmbedded struct {
		fillPlainBase
		C int `json:"c"`
	}
	fillPlainBase struct {
		A int `json:"a"`
	}
	fillFloat32 struct {
		F float32 `json:"f"`
	}
	fillOddName struct {
		A int `json:"a-b"`
	}
)

func TestPlanFillTakesOnlyPlainStructs(t *testing.T) {
	for _, tt := range []struct {
		typ  reflect.Type
		plan bool
	}{
		{reflect.TypeFor[fillPlain](), true},
		{reflect.TypeFor[struct{}](), true},
		{reflect.TypeFor[fillNested](), false},
		{reflect.TypeFor[fillTime](), false},
		{reflect.TypeFor[fillEmbedded](), false},
		{reflect.TypeFor[fillFloat32](), false},
		{reflect.TypeFor[fillOddName](), false},
		{reflect.TypeFor[*fillPlain](), false},
		{reflect.TypeFor[big.Int](), false},
	} {
		if got := planFill(tt.typ) != nil; got != tt.plan {
			t.Errorf("%v: plan %v, want %v", tt.typ, got, tt.plan)
		}
	}
}

// fillMatchesJSON fails when filling A from the validated arguments gives another struct
// than decoding their JSON does.
func fillMatchesJSON[A any](t *testing.T, v *schema.Validator, args map[string]any) {
	t.Helper()
	valid, err := v.Validate(args)
	if err != nil {
		return
	}
	var filled, decoded A
	if !planFill(reflect.TypeFor[A]()).fill(reflect.ValueOf(&filled).Elem(), valid) {
		return
	}
	raw, err := wire.Compact(valid)
	if err != nil {
		t.Fatalf("%v: %v", valid, err)
	}
	if err := wire.Unmarshal(raw, &decoded); err != nil {
		t.Fatalf("filled %+v from %s, which does not decode: %v", filled, raw, err)
	}
	a, errA := wire.Compact(&filled)
	b, errB := wire.Compact(&decoded)
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Fatalf("from %s:\nfilled  %s (%v)\ndecoded %s (%v)", raw, a, errA, b, errB)
	}
}

// FuzzFillArguments: whatever fill takes, it fills as encoding/json decodes.
func FuzzFillArguments(f *testing.F) {
	for _, s := range []string{
		`{"a": 5, "b": -3, "u": 7, "f": 2, "s": "é", "t": true, "n": 12, "PN": -4, "pi": null, "ps": "y", "level": 300}`,
		`{"a": "5", "b": 1.0, "u": true, "f": "NaN", "s": 5, "n": 123456789012345678901234567890, "pi": 3}`,
		`{"a": 1, "b": 300, "u": -1, "A": 2, "Skip": 1, "level": 40000}`,
		`{"a": 9223372036854775807, "f": -0.0, "ps": "\u2028", "PN": null}`,
		`{"a": 1, "p": {"X": "2"}}`,
	} {
		f.Add([]byte(s))
	}
	plain := mustCompile(f, reflect.TypeFor[fillPlain](), false)
	extra := mustCompile(f, reflect.TypeFor[fillPlain](), true)
	f.Fuzz(func(t *testing.T, data []byte) {
		var args map[string]any
		if wire.UnmarshalNumbers(data, &args) != nil {
			return
		}
		fillMatchesJSON[fillPlain](t, plain, args)
		fillMatchesJSON[fillPlain](t, extra, args)
	})
}

func mustCompile(t testing.TB, typ reflect.Type, allowExtra bool) *schema.Validator {
	t.Helper()
	inputs, err := schema.Inputs(typ)
	if err != nil {
		t.Fatal(err)
	}
	v, err := schema.Compile(inputs, allowExtra)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The JSON of a filled struct is what the method would have decoded: checked on one
// call's worth of arguments too, beside the fuzz target's seeds.
func TestFillSumArguments(t *testing.T) {
	type addends struct {
		A big.Int `json:"a"`
		B big.Int `json:"b"`
	}
	v := mustCompile(t, reflect.TypeFor[addends](), false)
	var args map[string]any
	if err := json.Unmarshal([]byte(`{"a": 5, "b": 18}`), &args); err != nil {
		t.Fatal(err)
	}
	valid, err := v.Validate(args)
	if err != nil {
		t.Fatal(err)
	}
	var a addends
	if !planFill(reflect.TypeFor[addends]()).fill(reflect.ValueOf(&a).Elem(), valid) {
		t.Fatalf("fill gave up on %v", valid)
	}
	if a.A.Int64() != 5 || a.B.Int64() != 18 {
		t.Fatalf("filled %v and %v", &a.A, &a.B)
	}
	fillMatchesJSON[addends](t, v, args)
}

// TestFillPlainArguments: a struct of every plain kind is filled, not handed to JSON.
func TestFillPlainArguments(t *testing.T) {
	v := mustCompile(t, reflect.TypeFor[fillPlain](), false)
	var args map[string]any
	if err := wire.UnmarshalNumbers([]byte(`{"a": 5, "b": -3, "u": 7, "f": 2, "s": "é", "t": true, "n": 12, "PN": -4, "pi": 3, "ps": "y", "level": 300}`), &args); err != nil {
		t.Fatal(err)
	}
	valid, err := v.Validate(args)
	if err != nil {
		t.Fatal(err)
	}
	var a fillPlain
	if !planFill(reflect.TypeFor[fillPlain]()).fill(reflect.ValueOf(&a).Elem(), valid) {
		t.Fatalf("fill gave up on %v", valid)
	}
	if a.A != 5 || a.B != -3 || a.U != 7 || a.F != 2 || a.S != "é" || !a.T || a.N.Int64() != 12 || a.PN.Int64() != -4 ||
		*a.PI != 3 || *a.PS != "y" || a.L != 300 {
		t.Fatalf("filled %+v", a)
	}
	fillMatchesJSON[fillPlain](t, v, args)
}
