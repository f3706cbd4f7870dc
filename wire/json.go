package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// Field is one key of an Object.
type Field struct {
	Key   string
	Value any
}

// Object is a JSON object that keeps its keys in the order written, as Python dicts do.
type Object []Field

// MarshalJSON writes the fields in order.
func (o Object) MarshalJSON() ([]byte, error) {
	if out, ok := compactFast(o); ok {
		return out, nil
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		appendPyString(&b, f.Key)
		b.WriteByte(':')
		v, err := marshalCompact(f.Value)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", f.Key, err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Get returns the value of key and whether it is present.
func (o Object) Get(key string) (any, bool) {
	for _, f := range o {
		if f.Key == key {
			return f.Value, true
		}
	}
	return nil, false
}

func marshalCompact(v any) ([]byte, error) {
	if out, ok := compactFast(v); ok {
		return out, nil
	}
	return marshalGeneral(v)
}

// marshalGeneral is marshalCompact once the fast way has given up: encoding/json, and
// Python's tokens for the non-finite floats it refuses.
func marshalGeneral(v any) ([]byte, error) {
	b, err := encodeStd(v)
	if err != nil {
		return marshalNonFinite(v, err)
	}
	return b, nil
}

// Compact encodes v as compact JSON without HTML escaping, keys in the order Marshal
// keeps; Envelope.Marshal turns it into Python's form. Non-finite floats are written as
// Python writes them: NaN, Infinity, -Infinity (not JSON, but what every Python peer
// reads and writes).
func Compact(v any) ([]byte, error) { return marshalCompact(v) }

// AppendCompact appends v, encoded as Compact encodes it, to dst: for a message built
// around an encoded value, without a copy of the value of its own.
func AppendCompact(dst []byte, v any) ([]byte, error) {
	if out, ok := appendFast(dst, v, 0); ok {
		return out, nil
	}
	b, err := marshalGeneral(v)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// Marshal encodes v in Python's json.dumps(v, ensure_ascii=False) byte form, non-finite
// floats included (see Compact). Key order is that of encoding/json: struct field order,
// sorted map keys, Object order.
func Marshal(v any) ([]byte, error) {
	raw, err := marshalCompact(v)
	if err != nil {
		return nil, err
	}
	return Reformat(raw)
}

// Reformat rewrites valid JSON text into Python's byte form, keeping key order, numbers
// as written and string contents as decoded.
func Reformat(raw []byte) ([]byte, error) {
	return appendReformat(make([]byte, 0, len(raw)+len(raw)/8), raw)
}

// appendReformat appends raw in Python's byte form: ", " and ": " between items, no other
// space, strings as appendPyStringTo writes them (escaped ones decoded and written again).
// Runs of other bytes are copied whole.
func appendReformat(dst, raw []byte) ([]byte, error) {
	start := 0 // raw[start:i] is still to be copied
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; c {
		case ' ', '\t', '\n', '\r':
			dst = append(dst, raw[start:i]...)
			start = i + 1
		case ',', ':':
			dst = append(dst, raw[start:i]...)
			dst = append(dst, c, ' ')
			start = i + 1
		case '"':
			end, escaped, err := stringEnd(raw, i)
			if err != nil {
				return dst, err
			}
			if escaped {
				var s string
				if err := json.Unmarshal(raw[i:end+1], &s); err != nil {
					return dst, fmt.Errorf("%w: %v", ErrMalformed, err)
				}
				dst = append(dst, raw[start:i]...)
				dst = appendPyStringTo(dst, s)
				start = end + 1
			}
			i = end
		}
	}
	return append(dst, raw[start:]...), nil
}

// stringEnd returns the index of the closing quote of the string starting at raw[start].
func stringEnd(raw []byte, start int) (end int, escaped bool, err error) {
	for j := start + 1; j < len(raw); j++ {
		if j+8 <= len(raw) { // eight bytes at a time up to a quote or a backslash
			m := special(binary.LittleEndian.Uint64(raw[j:]))
			if m == 0 {
				j += 7
				continue
			}
			j += bits.TrailingZeros64(m) / 8
		}
		switch raw[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j, escaped, nil
		}
	}
	return 0, false, fmt.Errorf("%w: unterminated string", ErrMalformed)
}

const hexDigits = "0123456789abcdef"

// appendPyString writes s as Python's json.dumps(s, ensure_ascii=False) does.
func appendPyString(b *bytes.Buffer, s string) {
	b.Write(appendPyStringTo(b.AvailableBuffer(), s))
}

// appendPyStringTo appends s as Python's json.dumps(s, ensure_ascii=False) writes it.
func appendPyStringTo(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, "\ufffd"...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, `\"`...)
		case '\\':
			dst = append(dst, `\\`...)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		case '\b':
			dst = append(dst, `\b`...)
		case '\f':
			dst = append(dst, `\f`...)
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// PyString returns s as a Python JSON string literal.
func PyString(s string) string {
	var b bytes.Buffer
	appendPyString(&b, s)
	return b.String()
}

// PyRepr renders a list of strings as Python's repr of a list does for plain names:
// ['a', 'b'].
func PyRepr(names []string) string {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		q := strconv.Quote(n)
		b.WriteByte('\'')
		b.WriteString(q[1 : len(q)-1])
		b.WriteByte('\'')
	}
	b.WriteByte(']')
	return b.String()
}
