package wire

import (
	"fmt"
	"reflect"
	"testing"
)

// sameAsStd fails when decodeFast decodes data into a fresh target of each kind
// otherwise than encoding/json (unmarshalStd) does.
func sameAsStd(t *testing.T, data []byte) {
	t.Helper()
	for _, useNumber := range []bool{true, false} {
		for _, newTarget := range []func() any{
			func() any { return new(map[string]any) },
			func() any { m := map[string]any{"kept": 1}; return &m },
			func() any { m := map[string]any{}; return &m },
			func() any { return new(any) },
			func() any { return new(string) },
			func() any { return new(int) },
			func() any { return new(int64) },
			func() any { return new(bool) },
		} {
			fast, std := newTarget(), newTarget()
			if !decodeFast(data, fast, useNumber) {
				// Untouched: unmarshal then decodes it the general way.
				if f, n := reflect.ValueOf(fast).Elem().Interface(), reflect.ValueOf(newTarget()).Elem().Interface(); !reflect.DeepEqual(f, n) {
					t.Fatalf("%q into %T: gave up but left %#v", data, fast, f)
				}
				continue
			}
			if err := unmarshalStd(data, std, useNumber); err != nil {
				t.Fatalf("%q into %T: fast decoded %#v, encoding/json fails: %v", data, fast, fast, err)
			}
			f, s := reflect.ValueOf(fast).Elem().Interface(), reflect.ValueOf(std).Elem().Interface()
			if !reflect.DeepEqual(f, s) || fmt.Sprintf("%#v", f) != fmt.Sprintf("%#v", s) {
				t.Fatalf("%q into %T (numbers %v):\nfast          %#v\nencoding/json %#v", data, fast, useNumber, f, s)
			}
		}
	}
}

func TestDecodeFastCases(t *testing.T) {
	for _, s := range []string{
		`{"a": 5, "b": 18}`, ` {"a":{"b":[1,-2.5e3,"x",true,false,null,{}]},"a":[]} `, `{"é\u00e9": "\ud83d\ude00\n", "x": "\xff"}`,
		`{"a": 1} x`, `{"a": 01}`, `{"a": NaN}`, `{"a": 1e400}`, `[1, 2]`, `"str"`, `"\u2028"`, `23`, `-0`, `-9223372036854775808`,
		`9223372036854775808`, `2.5`, `1e2`, `true`, `false`, `null`, ` 7 `, `{"type": "exec_method", "args": {}}`, `{`, `{"a" 1}`,
	} {
		sameAsStd(t, []byte(s))
	}
}

// FuzzDecodeFast: whatever decodeFast reads, it reads as encoding/json does.
func FuzzDecodeFast(f *testing.F) {
	f.Add([]byte(`{"a": 5, "b": [1.5, null, true, "x\n"], "c": {"d": -0}}`))
	f.Add([]byte(`-12`))
	f.Add([]byte(`"abc"`))
	f.Fuzz(func(t *testing.T, data []byte) { sameAsStd(t, data) })
}
