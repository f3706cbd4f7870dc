package component

import (
	"encoding"
	"encoding/json"
	"math/big"
	"reflect"
	"strings"
	"unicode/utf8"
)

// A method's arguments reach it as Validate returns them, encoded as JSON and decoded
// into its argument struct by encoding/json. For a struct of plain fields (integers,
// float64, strings, booleans, big.Int, or pointers to them) a fillPlan puts the validated
// values into the fields directly, as that decoding would: the same fields get the same
// values. Whatever it is not sure of (a key that is not exactly a field's name, a value
// of another type, a string that is not UTF-8, an integer beyond the field) makes fill
// give up, and the JSON way decodes the arguments, errors included.

// fillKind is how a field takes its value.
type fillKind int

const (
	fillInt fillKind = iota + 1
	fillUint
	fillFloat
	fillString
	fillBool
	fillBig
)

type fillField struct {
	index int
	kind  fillKind
	ptr   bool         // the field is a pointer to the value
	elem  reflect.Type // the pointed-to type, when ptr
}

// fillPlan fills one argument struct type.
type fillPlan struct {
	fields map[string]fillField // by JSON name
}

var (
	bigIntType          = reflect.TypeFor[big.Int]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// decodesItself tells whether encoding/json hands t's JSON to a method of t.
func decodesItself(t reflect.Type) bool {
	return t.Implements(jsonUnmarshalerType) || reflect.PointerTo(t).Implements(jsonUnmarshalerType) ||
		t.Implements(textUnmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType)
}

// planFill returns the plan for struct type t, or nil when encoding/json must decode it.
func planFill(t reflect.Type) *fillPlan {
	if t.Kind() != reflect.Struct || decodesItself(t) {
		return nil
	}
	p := &fillPlan{fields: map[string]fillField{}}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return nil // encoding/json may promote its fields
		}
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		if !plainName(name) || strings.Contains(","+opts+",", ",string,") {
			return nil
		}
		if _, dup := p.fields[name]; dup {
			return nil
		}
		f := fillField{index: i}
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			f.ptr, f.elem, ft = true, ft.Elem(), ft.Elem()
		}
		switch {
		case ft == bigIntType:
			f.kind = fillBig
		case decodesItself(ft):
			return nil
		default:
			switch ft.Kind() {
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
				f.kind = fillInt
			case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
				f.kind = fillUint
			case reflect.Float64:
				f.kind = fillFloat
			case reflect.String:
				f.kind = fillString
			case reflect.Bool:
				f.kind = fillBool
			default:
				return nil
			}
		}
		p.fields[name] = f
	}
	return p
}

// plainName tells whether encoding/json surely takes name as the field's name: letters,
// digits and underscores only.
func plainName(name string) bool {
	for _, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return name != ""
}

// fill puts valid into dst, a zero struct of the plan's type; false when it cannot be
// sure to do what decoding valid's JSON would (dst is then to be thrown away).
func (p *fillPlan) fill(dst reflect.Value, valid map[string]any) bool {
	for k, v := range valid {
		f, ok := p.fields[k]
		if !ok {
			return false
		}
		if v == nil {
			continue // null leaves a field as it is
		}
		field := dst.Field(f.index)
		if f.ptr {
			ptr := reflect.New(f.elem)
			field.Set(ptr)
			field = ptr.Elem()
		}
		if !setPlain(field, f.kind, v) {
			return false
		}
	}
	return true
}

// setPlain sets field, of kind k, to v.
func setPlain(field reflect.Value, k fillKind, v any) bool {
	switch k {
	case fillInt:
		n, ok := v.(int64)
		if !ok || field.OverflowInt(n) {
			return false
		}
		field.SetInt(n)
	case fillUint:
		n, ok := v.(int64)
		if !ok || n < 0 || field.OverflowUint(uint64(n)) {
			return false
		}
		field.SetUint(uint64(n))
	case fillFloat:
		f, ok := v.(float64)
		if !ok {
			return false
		}
		field.SetFloat(f)
	case fillString:
		s, ok := v.(string)
		if !ok || !utf8.ValidString(s) {
			return false
		}
		field.SetString(s)
	case fillBool:
		b, ok := v.(bool)
		if !ok {
			return false
		}
		field.SetBool(b)
	case fillBig:
		n, ok := v.(int64)
		if !ok {
			return false
		}
		field.Addr().Interface().(*big.Int).SetInt64(n)
	default:
		return false
	}
	return true
}
