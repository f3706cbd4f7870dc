package wire

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// Plain structs (a call's arguments, the registry's events and reports) are written by
// a plan made once per type, byte for byte as encoding/json writes them, instead of
// through its reflection each time. A struct is plain when every field encoding/json
// writes is a boolean, an integer, a float64, a string, a []string or a slice of plain
// structs, named with letters, digits and underscores, with no option but omitempty,
// none embedded, and neither it nor a field type encodes itself. Others, and a value the
// plan cannot write (a NaN), take the general way.

// structPlan writes one plain struct type.
type structPlan struct {
	fields []planField
}

type planField struct {
	index     int
	key       string // `"name":`
	kind      reflect.Kind
	omitEmpty bool
	strings   bool        // a []string
	elem      *structPlan // a slice of this plain struct
}

var structPlans sync.Map // reflect.Type → *structPlan, nil when the type is not plain

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerRef  = reflect.TypeFor[encoding.TextMarshaler]()
)

// encodesItself tells whether encoding/json hands t to a method of t (or of *t).
func encodesItself(t reflect.Type) bool {
	return t.Implements(jsonMarshalerType) || reflect.PointerTo(t).Implements(jsonMarshalerType) ||
		t.Implements(textMarshalerRef) || reflect.PointerTo(t).Implements(textMarshalerRef)
}

// planFor returns the plan of struct type t, nil when t is not plain.
func planFor(t reflect.Type) *structPlan {
	if p, ok := structPlans.Load(t); ok {
		return p.(*structPlan)
	}
	p := makePlan(t, map[reflect.Type]bool{})
	structPlans.Store(t, p)
	return p
}

// makePlan plans t; making lists the types being planned (a recursive type is not plain).
func makePlan(t reflect.Type, making map[reflect.Type]bool) *structPlan {
	if t.Kind() != reflect.Struct || encodesItself(t) || making[t] {
		return nil
	}
	making[t] = true
	defer delete(making, t)
	p := &structPlan{}
	seen := map[string]bool{}
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			return nil // encoding/json would flatten it
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
		if !plainKey(name) || seen[name] || opts != "" && opts != "omitempty" {
			return nil
		}
		seen[name] = true
		f := planField{index: i, key: `"` + name + `":`, kind: sf.Type.Kind(), omitEmpty: opts == "omitempty"}
		ft := sf.Type
		if encodesItself(ft) {
			return nil
		}
		switch ft.Kind() {
		case reflect.Bool, reflect.String, reflect.Float64,
			reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		case reflect.Slice:
			switch et := ft.Elem(); {
			case et.Kind() == reflect.String && !encodesItself(et):
				f.strings = true
			case et.Kind() == reflect.Struct:
				if f.elem = makePlan(et, making); f.elem == nil {
					return nil
				}
			default:
				return nil
			}
		default:
			return nil
		}
		p.fields = append(p.fields, f)
	}
	return p
}

// plainKey tells whether encoding/json writes name as it is: letters, digits, underscores.
func plainKey(name string) bool {
	for _, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return name != ""
}

// append writes v, a value of the plan's type; false when the general way must.
func (p *structPlan) append(dst []byte, v reflect.Value, depth int) ([]byte, bool) {
	if depth > maxFastDepth {
		return dst, false
	}
	dst = append(dst, '{')
	first := true
	for i := range p.fields {
		f := &p.fields[i]
		fv := v.Field(f.index)
		if f.omitEmpty && emptyField(f, fv) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, f.key...)
		var ok bool
		if dst, ok = f.appendValue(dst, fv, depth); !ok {
			return dst, false
		}
	}
	return append(dst, '}'), true
}

func emptyField(f *planField, v reflect.Value) bool {
	switch f.kind {
	case reflect.Bool:
		return !v.Bool()
	case reflect.String, reflect.Slice:
		return v.Len() == 0
	case reflect.Float64:
		return v.Float() == 0
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	default: // the unsigned kinds
		return v.Uint() == 0
	}
}

func (f *planField) appendValue(dst []byte, v reflect.Value, depth int) ([]byte, bool) {
	switch f.kind {
	case reflect.Bool:
		return strconv.AppendBool(dst, v.Bool()), true
	case reflect.String:
		return appendJSONString(dst, v.String()), true
	case reflect.Float64:
		return appendFloat(dst, v.Float())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(dst, v.Int(), 10), true
	case reflect.Slice:
		if v.IsNil() {
			return append(dst, "null"...), true
		}
		dst = append(dst, '[')
		for i := range v.Len() {
			if i > 0 {
				dst = append(dst, ',')
			}
			if f.strings {
				dst = appendJSONString(dst, v.Index(i).String())
				continue
			}
			var ok bool
			if dst, ok = f.elem.append(dst, v.Index(i), depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	default: // the unsigned kinds
		return strconv.AppendUint(dst, v.Uint(), 10), true
	}
}
