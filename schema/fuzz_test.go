package schema_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
	} {
		targets = append(targets, target{mustValidator(f, tt.args, tt.allowExtra), tt.args, tt.unmarshal})
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
