package wire

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"reflect"
	"testing"
	"time"
)

// refObject is Object as it encoded itself before appendFast: each field through
// encoding/json.
type refObject []Field

func (o refObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		appendPyString(&b, f.Key)
		b.WriteByte(':')
		v, err := refEncode(f.Value)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// refEncode is encoding/json without HTML escaping, Objects included.
func refEncode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(toRef(v)); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func toRef(v any) any {
	switch x := v.(type) {
	case Object:
		out := make(refObject, len(x))
		for i, f := range x {
			out[i] = Field{Key: f.Key, Value: toRef(f.Value)}
		}
		return out
	case []any:
		if x == nil {
			return x
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toRef(e)
		}
		return out
	case map[string]any:
		if x == nil {
			return x
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = toRef(e)
		}
		return out
	}
	return v
}

// sameAsEncodingJSON fails when compactFast writes v otherwise than encoding/json.
func sameAsEncodingJSON(t *testing.T, v any) {
	t.Helper()
	got, ok := compactFast(v)
	want, err := refEncode(v)
	if ok && err != nil {
		t.Fatalf("%#v: fast wrote %s, encoding/json fails: %v", v, got, err)
	}
	if ok && !bytes.Equal(got, want) {
		t.Fatalf("%#v:\nfast          %s\nencoding/json %s", v, got, want)
	}
	if !ok && err == nil && !hasNonFinite(v) && depthOf(v) <= maxFastDepth {
		t.Fatalf("%#v: fast gave up on what encoding/json writes: %s", v, want)
	}
}

func depthOf(v any) int {
	d := 0
	switch x := v.(type) {
	case Object:
		for _, f := range x {
			d = max(d, depthOf(f.Value))
		}
	case []any:
		for _, e := range x {
			d = max(d, depthOf(e))
		}
	case map[string]any:
		for _, e := range x {
			d = max(d, depthOf(e))
		}
	default:
		return 0
	}
	return d + 1
}

func hasNonFinite(v any) bool {
	switch x := v.(type) {
	case float64:
		return math.IsNaN(x) || math.IsInf(x, 0)
	case Object:
		for _, f := range x {
			if hasNonFinite(f.Value) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasNonFinite(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if hasNonFinite(e) {
				return true
			}
		}
	}
	return false
}

func TestCompactFastCases(t *testing.T) {
	for _, v := range []any{
		nil, "", "a\"b\\c\n\r\t\b\f\x00\x1f<>&\u2028\u2029é\xff\xc3", true, false, 0, -7, int64(math.MinInt64),
		0.0, math.Copysign(0, -1), 1e-7, 1e-6, 123456789.125, 1e20, 1e21, -1.5e300, 5e-324, math.MaxFloat64,
		json.RawMessage(nil), json.RawMessage(` { "a" : [ 1 , 2 ] } `), json.RawMessage(`{"a":`), json.RawMessage{},
		json.Number("12"), json.Number(""), Object(nil), Object{}, []any(nil), []any{}, map[string]any(nil),
		map[string]any{"b": 1, "a": []any{Object{{"x\u2028", "y"}}}, "é": nil},
		Object{{"type", TypeExecMethod}, {"args", json.RawMessage(`{"a": 5,"b":18}`)}, {"n", []any{json.Number("1e400")}}},
		Object{{"errors", []any{ErrorItem{Text: "<x>"}, Object{{"k", struct{ A int }{1}}}}}},
		(*big.Int)(nil), big.NewInt(-42), new(big.Int).Lsh(big.NewInt(3), 200), *big.NewInt(7), []any{big.NewInt(1), (*big.Int)(nil)},
		Object{{"nan", math.NaN()}}, []any{math.Inf(1)}, make(chan int), Object{{"c", make(chan int)}},
	} {
		sameAsEncodingJSON(t, v)
	}
}

// FuzzCompactFast: what appendFast writes is what encoding/json (and Object's own
// MarshalJSON before it) writes, for values decoded from any JSON text, wrapped in Objects.
func FuzzCompactFast(f *testing.F) {
	f.Add([]byte(`{"sender": "A", "message": {"type": "exec_method", "args": {"a": 5, "b": [1.5, null, true, "x"]}}}`), "key")
	f.Add([]byte(`[1e-7, 1e21, 123456789012345678901234567890, -0.0, "\u2028\ud800"]`), "\xff")
	f.Fuzz(func(t *testing.T, b []byte, s string) {
		sameAsEncodingJSON(t, s)
		sameAsEncodingJSON(t, Object{{s, s}, {"raw", json.RawMessage(b)}})
		var plain any
		if json.Unmarshal(b, &plain) == nil {
			sameAsEncodingJSON(t, plain)
			sameAsEncodingJSON(t, Object{{"v", plain}, {s, []any{plain, Object{{"w", plain}}}}})
		}
		var numbers any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if dec.Decode(&numbers) == nil {
			sameAsEncodingJSON(t, numbers)
			if m, ok := numbers.(map[string]any); ok {
				o := Object{}
				for k, v := range m {
					o = append(o, Field{k, v})
				}
				sameAsEncodingJSON(t, o)
			}
		}
	})
}

type (
	plainEvent struct {
		Type   string  `json:"type"`
		At     string  `json:"at"`
		N      int     `json:"n"`
		U      uint16  `json:"u,omitempty"`
		Ms     float64 `json:"ms"`
		Error  string  `json:"error,omitempty"`
		Direct bool    `json:"direct,omitempty"`
		Tags   []string
		hidden int //lint:ignore U1000 an unexported field is not written
		Skip   int `json:"-"`
	}
	plainReport struct {
		Type   string       `json:"type"`
		Events []plainEvent `json:"events"`
		More   []plainEvent `json:"more,omitempty"`
	}
	kindName  string
	namedArgs struct {
		A int      `json:"a"`
		K kindName `json:"k"`
	}
	notPlainTime struct {
		When time.Time `json:"when"`
	}
	notPlainPtr struct {
		P *int `json:"p"`
	}
	notPlainEmbedded struct {
		plainEvent
		X int
	}
	notPlainOption struct {
		N int `json:"n,string"`
	}
	notPlainName struct {
		N int `json:"a-b"`
	}
	selfEncoding struct{ A int }
)

func (selfEncoding) MarshalJSON() ([]byte, error) { return []byte(`"self"`), nil }

func TestStructPlans(t *testing.T) {
	for _, tt := range []struct {
		v     any
		plain bool
	}{
		{plainEvent{}, true}, {plainReport{}, true}, {namedArgs{}, true}, {struct{}{}, true},
		{notPlainTime{}, false}, {notPlainPtr{}, false}, {notPlainEmbedded{}, false}, {notPlainOption{}, false},
		{notPlainName{}, false}, {selfEncoding{}, false}, {big.Int{}, false},
	} {
		if got := planFor(reflect.TypeOf(tt.v)) != nil; got != tt.plain {
			t.Errorf("%T: plain %v, want %v", tt.v, got, tt.plain)
		}
		sameAsEncodingJSON(t, tt.v)
	}
	ev := plainEvent{Type: "call", At: "2026-12-01T00:00:00Z", N: -3, U: 7, Ms: 0.25, Error: "a\"b<\u2028>", Direct: true, Tags: []string{"x", "é"}}
	for _, v := range []any{
		ev, &ev, (*plainEvent)(nil), plainReport{Type: "calls", Events: []plainEvent{ev, {}}},
		plainReport{Events: []plainEvent{}}, namedArgs{A: 5, K: "k"}, plainEvent{Ms: math.NaN()},
		Object{{"e", ev}, {"list", []any{ev, &ev}}}, map[string]any{"r": plainReport{}},
	} {
		sameAsEncodingJSON(t, v)
	}
}

// FuzzStructPlans: plain structs filled from any JSON text are written as encoding/json
// writes them.
func FuzzStructPlans(f *testing.F) {
	f.Add([]byte(`{"type": "calls", "events": [{"type": "call", "n": 5, "u": 3, "ms": 1e-7, "error": "x", "Tags": ["a"]}], "more": []}`), 2.5)
	f.Fuzz(func(t *testing.T, b []byte, ms float64) {
		var r plainReport
		if json.Unmarshal(b, &r) != nil {
			return
		}
		if len(r.Events) > 0 {
			r.Events[0].Ms = ms
		}
		sameAsEncodingJSON(t, r)
		sameAsEncodingJSON(t, &r)
		sameAsEncodingJSON(t, Object{{"r", r}})
	})
}
