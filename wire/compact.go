package wire

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"
)

// The values a call carries are mostly Objects of strings, raw JSON, numbers and the
// []any and map[string]any that decoding makes. appendFast writes those itself, byte for
// byte as encoding/json (without HTML escaping) and Object.MarshalJSON write them, and
// hands anything else to encodeStd. It gives up (ok false) on the first error, and
// marshalCompact then encodes the whole value the general way, so that errors, and the
// non-finite floats that come with them, are handled exactly as before.

// scratch is what the encoders reuse; their results are copied out of it.
type scratch struct {
	buf []byte        // appendFast's
	b   bytes.Buffer  // encodeStd's
	enc *json.Encoder // writes into b, without HTML escaping
}

var scratches = sync.Pool{New: func() any {
	s := &scratch{}
	s.enc = json.NewEncoder(&s.b)
	s.enc.SetEscapeHTML(false)
	return s
}}

// maxKept bounds the buffers put back in the pool, so that one huge value does not stay.
const maxKept = 64 << 10

func putScratch(s *scratch) {
	if s.b.Cap() <= maxKept && cap(s.buf) <= maxKept {
		s.b.Reset()
		s.buf = s.buf[:0]
		scratches.Put(s)
	}
}

// encodeStd is encoding/json without HTML escaping and without the final newline.
func encodeStd(v any) ([]byte, error) {
	s := scratches.Get().(*scratch)
	defer putScratch(s)
	if err := s.enc.Encode(v); err != nil {
		return nil, err
	}
	return slices.Clone(bytes.TrimRight(s.b.Bytes(), "\n")), nil
}

// appendStd appends v as encodeStd writes it.
func appendStd(dst []byte, v any) ([]byte, bool) {
	s := scratches.Get().(*scratch)
	defer putScratch(s)
	if err := s.enc.Encode(v); err != nil {
		return dst, false
	}
	return append(dst, bytes.TrimRight(s.b.Bytes(), "\n")...), true
}

// compactFast encodes v with appendFast; ok is false when the general way must do it.
func compactFast(v any) ([]byte, bool) {
	s := scratches.Get().(*scratch)
	defer putScratch(s)
	out, ok := appendFast(s.buf[:0], v, 0)
	s.buf = out[:0]
	if !ok {
		return nil, false
	}
	return slices.Clone(out), true
}

// maxFastDepth bounds the recursion of appendFast; deeper values take the general way.
const maxFastDepth = 100

func appendFast(dst []byte, v any, depth int) ([]byte, bool) {
	if depth > maxFastDepth {
		return dst, false
	}
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case string:
		return appendJSONString(dst, x), true
	case bool:
		return strconv.AppendBool(dst, x), true
	case int:
		return strconv.AppendInt(dst, int64(x), 10), true
	case int64:
		return strconv.AppendInt(dst, x, 10), true
	case float64:
		return appendFloat(dst, x)
	case *big.Int: // a method's exact integer result
		if x == nil {
			return append(dst, "null"...), true
		}
		return x.Append(dst, 10), true
	case json.RawMessage:
		if x == nil {
			return append(dst, "null"...), true
		}
		return appendCompact(dst, x)
	case Object:
		return appendObject(dst, x, depth)
	case MethodResult:
		return appendObject(dst, x.object(), depth)
	case []any:
		if x == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '[')
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = appendFast(dst, e, depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	case map[string]any:
		if x == nil {
			return append(dst, "null"...), true
		}
		var kept [8]string
		keys := kept[:0]
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			var ok bool
			if dst, ok = appendFast(dst, x[k], depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, '}'), true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Struct:
		if p := planFor(rv.Type()); p != nil {
			return p.append(dst, rv, depth)
		}
	case reflect.Pointer:
		if !rv.IsNil() && rv.Elem().Kind() == reflect.Struct {
			if p := planFor(rv.Elem().Type()); p != nil && !encodesItself(rv.Type()) {
				return p.append(dst, rv.Elem(), depth)
			}
		}
	}
	return appendStd(dst, v)
}

// appendObject writes o as Object.MarshalJSON does: keys in Python's form, in order.
func appendObject(dst []byte, o Object, depth int) ([]byte, bool) {
	dst = append(dst, '{') // a nil Object too: encoding/json calls its MarshalJSON
	for i, f := range o {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendPyStringTo(dst, f.Key)
		dst = append(dst, ':')
		var ok bool
		if dst, ok = appendFast(dst, f.Value, depth+1); !ok {
			return dst, false
		}
	}
	return append(dst, '}'), true
}

// appendCompact writes raw JSON text without its insignificant spaces, as encoding/json
// writes a json.RawMessage; false when raw is not valid JSON.
func appendCompact(dst, raw []byte) ([]byte, bool) {
	b := bytes.NewBuffer(dst)
	if err := json.Compact(b, raw); err != nil {
		return dst, false
	}
	return b.Bytes(), true
}

// appendFloat writes a finite float64 as encoding/json does (ES6 number form: exponent
// notation below 1e-6 and from 1e21 on, without a leading zero in the exponent).
func appendFloat(dst []byte, f float64) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, false
	}
	format := byte('f')
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		format = 'e'
	}
	start := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-07 becomes e-7
		if n := len(dst); n-start >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, true
}

// AppendString appends s to dst as a JSON string, as encoding/json writes it without HTML
// escaping, for a writer that builds JSON by hand.
func AppendString(dst []byte, s string) []byte { return appendJSONString(dst, s) }

// appendJSONString writes s as encoding/json does without HTML escaping: quote and
// backslash escaped, \b \f \n \r \t as such, other control characters as \u00XX, bytes
// that are not UTF-8 as \ufffd, and U+2028 and U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
