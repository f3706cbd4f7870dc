package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// Python's json module reads and writes the non-finite floats as the bare tokens NaN,
// Infinity and -Infinity; encoding/json knows none of them. Unmarshal reads them by
// decoding the text with null in their places and then putting each one where its path
// leads; marshalCompact writes them by encoding a copy of the value in which each stands
// for a finite number no other part of the text contains, and writing the token over it.

// Unmarshal is json.Unmarshal for JSON text written by Python's json module, which writes
// non-finite floats as NaN, Infinity and -Infinity, and reads a float literal beyond
// float64 (1e400) as infinite. Those go into float fields (float32, float64 and types
// based on them), untyped values (any) as float64 and json.Number values as their token;
// a type with its own UnmarshalJSON where one stands is given the token. Anywhere else
// (an int, a string, inside a value that decodes itself) they are an error naming their
// path, as a string would be. Text without them is decoded by encoding/json alone.
func Unmarshal(data []byte, v any) error { return unmarshal(data, v, false) }

// UnmarshalNumbers is Unmarshal with the numbers of untyped values decoded as json.Number
// (json.Decoder.UseNumber); non-finite ones still become float64.
func UnmarshalNumbers(data []byte, v any) error { return unmarshal(data, v, true) }

// nonFinite is one Python token found in a text: where it stands and its value.
type nonFinite struct {
	path []any // object keys (string) and array indexes (int) from the top
	tok  string
}

func (n nonFinite) value() float64 {
	switch n.tok {
	case tokInf:
		return math.Inf(1)
	case tokNegInf:
		return math.Inf(-1)
	}
	return math.NaN()
}

func unmarshal(data []byte, v any, useNumber bool) error {
	if decodeFast(data, v, useNumber) {
		return nil
	}
	return unmarshalStd(data, v, useNumber)
}

// unmarshalStd is unmarshal through encoding/json.
func unmarshalStd(data []byte, v any, useNumber bool) error {
	text, found, err := replaceNonFinite(data, func(string) string { return "null" }, true)
	if err != nil {
		return err
	}
	if !useNumber {
		if err := json.Unmarshal(text, v); err != nil {
			return err
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.UseNumber()
		if err := dec.Decode(v); err != nil {
			return err
		}
		if rest := bytes.TrimLeft(text[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
			return fmt.Errorf("invalid character %q after top-level value", rest[0])
		}
	}
	root := reflect.ValueOf(v) // a non-nil pointer, or Decode would have failed
	for _, nf := range found {
		if err := put(root, nf.path, nf); err != nil {
			return err
		}
	}
	return nil
}

// mayHoldNonFinite tells cheaply that text has no Python token outside strings and no
// number with an exponent of three digits or more (which may be beyond float64).
func mayHoldNonFinite(text []byte) bool {
	if bytes.IndexByte(text, 'N') >= 0 || bytes.IndexByte(text, 'I') >= 0 {
		return true
	}
	for i, c := range text {
		if c != 'e' && c != 'E' || i == 0 || text[i-1] < '0' || text[i-1] > '9' {
			continue
		}
		j := i + 1
		if j < len(text) && (text[j] == '+' || text[j] == '-') {
			j++
		}
		k := j
		for k < len(text) && text[k] >= '0' && text[k] <= '9' {
			k++
		}
		if k-j >= 3 {
			return true
		}
	}
	return false
}

// overflowAt returns the token Python reads a float literal beyond float64 as (1e400 is
// inf), "" for any other value.
func overflowAt(raw []byte) string {
	if len(raw) == 0 || raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') || !bytes.ContainsAny(raw, ".eE") {
		return ""
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	switch {
	case err == nil:
		return ""
	case math.IsInf(f, 1):
		return tokInf
	case math.IsInf(f, -1):
		return tokNegInf
	}
	return ""
}

// replaceNonFinite returns text with each Python token outside strings (and each float
// literal beyond float64) replaced by repl(token), and where each one was (with their
// paths when paths is set). Text without them is returned as is.
func replaceNonFinite(text []byte, repl func(tok string) string, paths bool) ([]byte, []nonFinite, error) {
	if !mayHoldNonFinite(text) {
		return text, nil, nil
	}
	r := rewriter{s: scanner{b: text}, repl: repl, paths: paths}
	if err := r.value(); err != nil {
		return nil, nil, err
	}
	if r.done == 0 {
		return text, nil, nil
	}
	r.out = append(r.out, text[r.done:]...) // trailing text is encoding/json's to judge
	return r.out, r.found, nil
}

// rewriter scans a JSON text and copies it, replacing the Python tokens; the copy is
// made only once a token is found.
type rewriter struct {
	s     scanner
	out   []byte
	done  int   // text before this index is in out
	path  []any // where the scanner is: object keys and array indexes
	repl  func(tok string) string
	paths bool
	found []nonFinite
}

func (r *rewriter) value() error {
	s := &r.s
	s.ws()
	if s.i >= len(s.b) {
		return fmt.Errorf("%w: unexpected end of JSON input", ErrMalformed)
	}
	if tok := nonFiniteAt(s.b, s.i); tok != "" {
		r.record(tok, s.i, s.i+len(tok))
		s.i += len(tok)
		return nil
	}
	c := s.b[s.i]
	if c != '{' && c != '[' {
		start := s.i
		raw, err := s.skip()
		if err != nil {
			return fmt.Errorf("%w: %v at byte %d", ErrMalformed, err, s.i)
		}
		if tok := overflowAt(raw); tok != "" {
			r.record(tok, start, s.i)
		}
		return nil
	}
	s.depth++
	if s.depth > maxDepth {
		return fmt.Errorf("%w: %v", ErrMalformed, errDepth)
	}
	defer func() { s.depth-- }()
	closer := byte(']')
	if c == '{' {
		closer = '}'
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == closer {
		s.i++
		return nil
	}
	for n := 0; ; n++ {
		var elem any = n
		if c == '{' {
			s.ws()
			start := s.i
			if s.i >= len(s.b) || s.b[s.i] != '"' {
				return fmt.Errorf("%w: object key expected at byte %d", ErrMalformed, s.i)
			}
			key, err := s.name()
			if err != nil {
				return fmt.Errorf("%w: %v at byte %d", ErrMalformed, err, start)
			}
			if err := s.expect(':'); err != nil {
				return fmt.Errorf("%w: ':' expected at byte %d", ErrMalformed, s.i)
			}
			elem = key
			if r.paths {
				r.forget(key) // a repeated key: the last value wins, as in encoding/json
			}
		}
		r.path = append(r.path, elem)
		err := r.value()
		r.path = r.path[:len(r.path)-1]
		if err != nil {
			return err
		}
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ',' {
			s.i++
			continue
		}
		if s.i >= len(s.b) || s.b[s.i] != closer {
			return fmt.Errorf("%w: %q expected at byte %d", ErrMalformed, closer, s.i)
		}
		s.i++
		return nil
	}
}

// record replaces text[from:to], the token tok found at r.path.
func (r *rewriter) record(tok string, from, to int) {
	r.out = append(r.out, r.s.b[r.done:from]...)
	r.out = append(r.out, r.repl(tok)...)
	r.done = to
	nf := nonFinite{tok: tok}
	if r.paths {
		nf.path = append([]any(nil), r.path...)
	}
	r.found = append(r.found, nf)
}

// forget drops the tokens found so far under r.path+key.
func (r *rewriter) forget(key string) {
	path := r.path
	kept := r.found[:0]
	for _, nf := range r.found {
		if len(nf.path) > len(path) && nf.path[len(path)] == key && pathHasPrefix(nf.path, path) {
			continue
		}
		kept = append(kept, nf)
	}
	r.found = kept
}

func pathHasPrefix(p, prefix []any) bool {
	if len(p) < len(prefix) {
		return false
	}
	for i := range prefix {
		if p[i] != prefix[i] {
			return false
		}
	}
	return true
}

var (
	numberType      = reflect.TypeFor[json.Number]()
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
)

// put stores nf's value at path below v, where encoding/json has left null (a zero value).
func put(v reflect.Value, path []any, nf nonFinite) error {
	for {
		if len(path) == 0 {
			return putLeaf(v, nf)
		}
		if v.Kind() != reflect.Pointer && v.CanAddr() && v.Addr().Type().Implements(unmarshalerType) ||
			v.Kind() == reflect.Pointer && v.Type().Implements(unmarshalerType) {
			return placeError(v.Type(), nf, "it decodes itself from JSON")
		}
		switch v.Kind() {
		case reflect.Pointer:
			if v.IsNil() {
				if !v.CanSet() {
					return placeError(v.Type(), nf, "")
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
			continue
		case reflect.Interface:
			if v.IsNil() {
				return placeError(v.Type(), nf, "")
			}
			inner := v.Elem()
			if inner.Kind() == reflect.Map {
				return putMap(inner, path, nf)
			}
			v = inner
			continue
		case reflect.Map:
			return putMap(v, path, nf)
		case reflect.Struct:
			key, _ := path[0].(string)
			index, ok := structField(v.Type(), key)
			if !ok {
				return nil // encoding/json ignores unknown keys
			}
			for i, x := range index {
				if i > 0 && v.Kind() == reflect.Pointer {
					if v.IsNil() {
						v.Set(reflect.New(v.Type().Elem()))
					}
					v = v.Elem()
				}
				v = v.Field(x)
			}
		case reflect.Slice, reflect.Array:
			i, _ := path[0].(int)
			if i >= v.Len() {
				return nil // an array shorter than the list: encoding/json drops the rest
			}
			v = v.Index(i)
		default:
			return placeError(v.Type(), nf, "")
		}
		path = path[1:]
	}
}

// putMap stores nf's value at path (whose first element is a key of m) below m.
func putMap(m reflect.Value, path []any, nf nonFinite) error {
	key, err := mapKey(m.Type().Key(), path[0])
	if err != nil || m.IsNil() {
		return placeError(m.Type(), nf, "")
	}
	elem := reflect.New(m.Type().Elem()).Elem()
	if cur := m.MapIndex(key); cur.IsValid() {
		elem.Set(cur)
	}
	if err := put(elem, path[1:], nf); err != nil {
		return err
	}
	m.SetMapIndex(key, elem)
	return nil
}

func mapKey(t reflect.Type, k any) (reflect.Value, error) {
	s, _ := k.(string)
	switch t.Kind() {
	case reflect.String:
		return reflect.ValueOf(s).Convert(t), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, t.Bits())
		return reflect.ValueOf(n).Convert(t), err
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := strconv.ParseUint(s, 10, t.Bits())
		return reflect.ValueOf(n).Convert(t), err
	}
	return reflect.Value{}, fmt.Errorf("map key type %s", t)
}

// putLeaf stores nf's value in v, which encoding/json has decoded from null.
func putLeaf(v reflect.Value, nf nonFinite) error {
	if v.CanAddr() && v.Kind() != reflect.Pointer && v.Addr().Type().Implements(unmarshalerType) {
		return v.Addr().Interface().(json.Unmarshaler).UnmarshalJSON([]byte(nf.tok))
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			if !v.CanSet() {
				return placeError(v.Type(), nf, "")
			}
			v.Set(reflect.New(v.Type().Elem()))
		}
		return putLeaf(v.Elem(), nf)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(nf.value())
		return nil
	case reflect.Interface:
		if v.NumMethod() == 0 {
			v.Set(reflect.ValueOf(nf.value()))
			return nil
		}
	case reflect.String:
		if v.Type() == numberType {
			v.SetString(nf.tok)
			return nil
		}
	}
	return placeError(v.Type(), nf, "")
}

func placeError(t reflect.Type, nf nonFinite, why string) error {
	parts := make([]string, len(nf.path))
	for i, p := range nf.path {
		parts[i] = fmt.Sprint(p)
	}
	err := &json.UnmarshalTypeError{Value: "number " + nf.tok, Type: t, Field: strings.Join(parts, ".")}
	if why != "" {
		return fmt.Errorf("%w (%s)", err, why)
	}
	return err
}
