package wire

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
)

// marshalNonFinite encodes v, which encoding/json refused with failure, when what it
// refused are non-finite floats (in float fields, or as Python tokens in json.RawMessage,
// json.Number, Object, MethodResult and ErrorItem values): they are written as Python writes them, NaN,
// Infinity and -Infinity. Otherwise failure is returned.
//
// A copy of v holds, in place of each non-finite value, a stand-in number that appears
// nowhere else in the encoded text (checked by counting); the stand-ins are then replaced
// by the tokens. Values that encode themselves (json.Marshaler, encoding.TextMarshaler)
// are left to do so.
func marshalNonFinite(v any, failure error) ([]byte, error) {
	for try := range 8 {
		c := copier{stand: standIns(try)}
		cp := c.value(reflect.ValueOf(v), 0)
		if c.err != nil {
			return nil, c.err
		}
		if c.total() == 0 {
			return nil, failure
		}
		var in any
		if cp.IsValid() {
			in = cp.Interface()
		}
		text, err := encodeStd(in)
		if err != nil {
			return nil, err
		}
		if out, ok := c.restore(text); ok {
			return out, nil
		}
	}
	return nil, fmt.Errorf("%w (no stand-in number was free)", failure)
}

// standIns are three numbers exactly representable as float32 and float64 that both
// write alike, and that no integer writes as.
func standIns(try int) [3]float64 {
	base := 7654321.5 - float64(try)*8
	return [3]float64{base, base + 2, base + 4}
}

var tokens = [3]string{tokNaN, tokInf, tokNegInf}

// copier builds the copy of a value with stand-ins; counts[i] stand for tokens[i].
type copier struct {
	stand  [3]float64
	counts [3]int
	err    error
}

func (c *copier) total() int { return c.counts[0] + c.counts[1] + c.counts[2] }

func (c *copier) standIn(f float64) (float64, bool) {
	switch {
	case math.IsNaN(f):
		c.counts[0]++
		return c.stand[0], true
	case math.IsInf(f, 1):
		c.counts[1]++
		return c.stand[1], true
	case math.IsInf(f, -1):
		c.counts[2]++
		return c.stand[2], true
	}
	return f, false
}

// literal is the text of stand-in i.
func (c *copier) literal(i int) string { return strconv.FormatFloat(c.stand[i], 'f', -1, 64) }

// raw replaces the Python tokens of a JSON text by the stand-ins' literals.
func (c *copier) raw(text []byte) []byte {
	var counts [3]int
	out, _, err := replaceNonFinite(text, func(tok string) string {
		for i := range tokens {
			if tokens[i] == tok {
				counts[i]++
				return c.literal(i)
			}
		}
		return tok
	}, false)
	if err != nil {
		return text // not ours to judge: encoding/json reports it
	}
	for i := range counts {
		c.counts[i] += counts[i]
	}
	return out
}

var (
	rawType           = reflect.TypeFor[json.RawMessage]()
	objectType        = reflect.TypeFor[Object]()
	methodResultType  = reflect.TypeFor[MethodResult]()
	errorItemType     = reflect.TypeFor[ErrorItem]()
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// maxCopyDepth bounds the copy, as encoding/json bounds pointer cycles.
const maxCopyDepth = 1000

// value returns v, or a copy of it of the same type with stand-ins in place of the
// non-finite values.
func (c *copier) value(v reflect.Value, depth int) reflect.Value {
	if !v.IsValid() || c.err != nil {
		return v
	}
	if depth > maxCopyDepth {
		c.err = errors.New("json: value nested too deeply or cyclic")
		return v
	}
	t := v.Type()
	switch t {
	case rawType:
		return reflect.ValueOf(json.RawMessage(c.raw(v.Bytes())))
	case numberType:
		for i, tok := range tokens {
			if v.String() == tok {
				c.counts[i]++
				return reflect.ValueOf(json.Number(c.literal(i)))
			}
		}
		return v
	case objectType:
		o := v.Interface().(Object)
		out := make(Object, len(o))
		for i, f := range o {
			out[i] = Field{Key: f.Key, Value: c.any(f.Value, depth)}
		}
		return reflect.ValueOf(out)
	case methodResultType:
		return reflect.ValueOf(MethodResult{Result: c.any(v.Interface().(MethodResult).Result, depth)})
	case errorItemType:
		e := v.Interface().(ErrorItem)
		e.Raw = c.raw(e.Raw)
		return reflect.ValueOf(e)
	}
	if t.Kind() != reflect.Pointer && (t.Implements(marshalerType) || t.Implements(textMarshalerType) ||
		reflect.PointerTo(t).Implements(marshalerType) || reflect.PointerTo(t).Implements(textMarshalerType)) {
		return v
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		if f, ok := c.standIn(v.Float()); ok {
			n := reflect.New(t).Elem()
			n.SetFloat(f)
			return n
		}
	case reflect.Interface:
		if !v.IsNil() {
			n := reflect.New(t).Elem()
			n.Set(c.value(v.Elem(), depth+1))
			return n
		}
	case reflect.Pointer:
		if !v.IsNil() {
			n := reflect.New(t.Elem())
			n.Elem().Set(c.value(v.Elem(), depth+1))
			return n
		}
	case reflect.Struct:
		n := reflect.New(t).Elem()
		n.Set(v)
		for i := range t.NumField() {
			if f := n.Field(i); f.CanSet() {
				f.Set(c.value(v.Field(i), depth+1))
			}
		}
		return n
	case reflect.Slice:
		if v.IsNil() || t.Elem().Kind() == reflect.Uint8 {
			return v
		}
		n := reflect.MakeSlice(t, v.Len(), v.Len())
		for i := range v.Len() {
			n.Index(i).Set(c.value(v.Index(i), depth+1))
		}
		return n
	case reflect.Array:
		n := reflect.New(t).Elem()
		for i := range v.Len() {
			n.Index(i).Set(c.value(v.Index(i), depth+1))
		}
		return n
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeMapWithSize(t, v.Len())
		for it := v.MapRange(); it.Next(); {
			n.SetMapIndex(it.Key(), c.value(it.Value(), depth+1))
		}
		return n
	}
	return v
}

// any copies an untyped value.
func (c *copier) any(x any, depth int) any {
	if x == nil {
		return nil
	}
	return c.value(reflect.ValueOf(x), depth+1).Interface()
}

// restore writes the tokens over the stand-ins of text, an encoding of the copy; false
// when the stand-ins are not exactly the ones the copy put there.
func (c *copier) restore(text []byte) ([]byte, bool) {
	lits := [3]string{c.literal(0), c.literal(1), c.literal(2)}
	var counts [3]int
	out := make([]byte, 0, len(text)+c.total()*4)
	for i := 0; i < len(text); {
		switch b := text[i]; {
		case b == '"':
			end, _, err := stringEnd(text, i)
			if err != nil {
				return nil, false
			}
			out = append(out, text[i:end+1]...)
			i = end + 1
		case b == '-' || b >= '0' && b <= '9':
			j := i
			for j < len(text) && isNumByte(text[j]) {
				j++
			}
			num := string(text[i:j])
			written := false
			for k, lit := range lits {
				if num == lit {
					counts[k]++
					out = append(out, tokens[k]...)
					written = true
				}
			}
			if !written {
				out = append(out, num...)
			}
			i = j
		default:
			out = append(out, b)
			i++
		}
	}
	return out, counts == c.counts
}
