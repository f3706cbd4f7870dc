package schema_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"testing"

	"github.com/at-technology/atqueue/schema"
	"github.com/at-technology/atqueue/wire"
)

// FuzzValidate feeds arbitrary JSON objects (as Python writes them: NaN and Infinity
// included) to several validators: Validate never panics, fails only with a well-formed
// *ValidationError, and returns arguments that marshal, decode into the Args struct and
// validate again to the same value. Seeds are in testdata/fuzz/FuzzValidate.
func FuzzValidate(f *testing.F) {
	type target struct {
		v         *schema.Validator
		args      reflect.Type
		unmarshal bool // every integer is an int, so the result must decode into args
	}
	var targets []target
	for _, tt := range []struct {
		args       reflect.Type
		allowExtra bool
		unmarshal  bool
	}{
		{reflect.TypeFor[intSumArgs](), false, true},
		{reflect.TypeFor[echoArgs](), false, true},
		{reflect.TypeFor[pointArgs](), false, true},
		{reflect.TypeFor[untypedArgs](), true, true},
		{reflect.TypeFor[richArgs](), false, false},
		{reflect.TypeFor[richArgs](), true, false},
		{reflect.TypeFor[coveredArgs](), false, false},
		{reflect.TypeFor[coveredArgs](), true, false},
	} {
		targets = append(targets, target{mustValidator(f, tt.args, tt.allowExtra), tt.args, tt.unmarshal})
	}
	for _, seed := range []string{
		`{"count": 3, "flag": true, "desc_inner": {"n": 1.5, "ok": null}, "labels": ["a"], "inners": [{"n": "2", "s": "y"}]}`,
		`{"count": "7", "small": -128, "ratio": "NaN", "big": 123456789012345678901234567890, "num": 1e400, "flag": null, "desc_inner": {"n": 0}}`,
		`{"count": 300, "flag": 1, "desc_inner": {"n": true, "extra": 1}, "by_name": {"k": {"n": 1}, "j": null}, "matrix": [[1, 2.5], []]}`,
		`{"count": 1.0, "flag": "yes", "desc_inner": {}, "def_inner": {"n": "x"}, "names": {"a": "b", "c": 1}, "anon": {"Z": "4"}}`,
		`{"count": 0, "flag": false, "desc_inner": {"n": Infinity}, "any": {"x": [NaN]}, "raw": {"y": 1}, "value": [1, {"a": null}], "zzz": 1}`,
		`{"count": -1, "small": 128, "ratio": 1e39, "flag": true, "desc_inner": {"n": 1}, "labels": "x", "inners": {}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, useNumber := range []bool{true, false} {
			decode := wire.Unmarshal
			if useNumber {
				decode = wire.UnmarshalNumbers
			}
			var args map[string]any
			if decode(data, &args) != nil {
				return
			}
			for _, tg := range targets {
				out, err := tg.v.Validate(args)
				sameAsChecked(t, tg.v, args, out, err)
				if err != nil {
					var ve *schema.ValidationError
					if !errors.As(err, &ve) || len(ve.Issues) == 0 {
						t.Fatalf("%v: err = %#v", tg.args, err)
					}
					if !json.Valid([]byte(ve.PydanticJSON())) {
						t.Fatalf("PydanticJSON is not JSON: %s", ve.PydanticJSON())
					}
					for _, is := range ve.Issues {
						if len(is.Loc) == 0 || is.Msg == "" || is.Type == "" {
							t.Fatalf("malformed issue %+v", is)
						}
					}
					if ve.Argument() != fmt.Sprint(ve.Issues[0].Loc[0]) || ve.Error() == "" {
						t.Fatalf("Argument %q, Error %q", ve.Argument(), ve.Error())
					}
					continue
				}
				raw, err := wire.Compact(out)
				if err != nil {
					t.Fatalf("%v: marshal %#v: %v", tg.args, out, err)
				}
				if tg.unmarshal {
					if err := wire.Unmarshal(raw, reflect.New(tg.args).Interface()); err != nil {
						t.Fatalf("%v: unmarshal %s: %v", tg.args, raw, err)
					}
				}
				again, err := tg.v.Validate(out)
				if err != nil {
					t.Fatalf("%v: not idempotent: %s then %v", tg.args, raw, err)
				}
				if raw2, _ := wire.Compact(again); !bytes.Equal(raw, raw2) {
					t.Fatalf("%v: not idempotent: %s then %s", tg.args, raw, raw2)
				}
			}
		}
	})
}

// sameAsChecked fails when Validate answered otherwise than it does with the compiled
// schema check run in every case.
func sameAsChecked(t *testing.T, v *schema.Validator, args, out map[string]any, err error) {
	t.Helper()
	out2, err2 := schema.ValidateChecked(v, args)
	if fmt.Sprint(err) != fmt.Sprint(err2) {
		t.Fatalf("%v: Validate says %v, with the check %v", args, err, err2)
	}
	var ve, ve2 *schema.ValidationError
	if errors.As(err, &ve) && errors.As(err2, &ve2) && ve.PydanticJSON() != ve2.PydanticJSON() {
		t.Fatalf("%v: Validate says %s, with the check %s", args, ve.PydanticJSON(), ve2.PydanticJSON())
	}
	a, errA := wire.Compact(out)
	b, errB := wire.Compact(out2)
	if !bytes.Equal(a, b) || (errA == nil) != (errB == nil) {
		t.Fatalf("%v: Validate gives %s, with the check %s", args, a, b)
	}
	// ValidateInto answers alike, into a map used before.
	into := map[string]any{"left": "over"}
	clear(into)
	err3 := v.ValidateInto(into, args)
	if fmt.Sprint(err) != fmt.Sprint(err3) {
		t.Fatalf("%v: Validate says %v, ValidateInto %v", args, err, err3)
	}
	if c, _ := wire.Compact(into); err3 == nil && !bytes.Equal(a, c) || err3 != nil && len(into) > 0 {
		t.Fatalf("%v: Validate gives %s, ValidateInto %s (%v)", args, a, c, err3)
	}
}

type (
	coveredInner struct {
		N  float64 `json:"n"`
		S  string  `json:"s" default:"x"`
		OK *bool   `json:"ok"`
	}
	// coveredArgs has only inputs whose schemas the coercer checks in full.
	coveredArgs struct {
		Count  uint8                    `json:"count" desc:"how many"`
		Small  int8                     `json:"small,omitempty"`
		Ratio  float32                  `json:"ratio" default:"1.0"`
		Big    big.Int                  `json:"big,omitempty"`
		Num    json.Number              `json:"num,omitempty"`
		Flag   *bool                    `json:"flag"`
		Names  map[string]string        `json:"names,omitempty"`
		Any    map[string]any           `json:"any,omitempty"`
		Raw    json.RawMessage          `json:"raw,omitempty"`
		Inners []coveredInner           `json:"inners,omitempty"`
		ByName map[string]*coveredInner `json:"by_name,omitempty"`
		Desc   coveredInner             `json:"desc_inner" desc:"an inner"`
		Def    coveredInner             `json:"def_inner" default:"{\"n\":2}"`
		Anon   struct{ Z int }          `json:"anon,omitempty"`
		Matrix [][]float64              `json:"matrix,omitempty"`
		Labels []string                 `json:"labels" default:"[\"x\"]"`
		Value  any                      `json:"value,omitempty"`
	}
)

func TestCoveredSchemas(t *testing.T) {
	for _, tt := range []struct {
		args    reflect.Type
		covered bool
	}{
		{reflect.TypeFor[intSumArgs](), true},
		{reflect.TypeFor[echoArgs](), true},
		{reflect.TypeFor[pointArgs](), true},
		{reflect.TypeFor[untypedArgs](), true},
		{reflect.TypeFor[coveredArgs](), true},
		{reflect.TypeFor[richArgs](), false}, // a date-time, bytes and a fixed-size array
	} {
		if got := schema.Covered(mustValidator(t, tt.args, false)); got != tt.covered {
			t.Errorf("%v: covered = %v, want %v", tt.args, got, tt.covered)
		}
	}
}
