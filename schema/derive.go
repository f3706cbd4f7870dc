package schema

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Input is one named argument of a method, in declaration order.
type Input struct {
	Name        string          // JSON name (json tag name, else the Go field name)
	Required    bool            // false for pointers, `default` tags and `,omitempty`
	Schema      json.RawMessage // compact JSON, keys in pydantic v1 order
	Description string          // from the `desc:"..."` struct tag, "" if none

	goType reflect.Type // the field's type when Inputs derived it, for Compile's limits
}

var (
	rawMessageType      = reflect.TypeFor[json.RawMessage]()
	timeType            = reflect.TypeFor[time.Time]()
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// Inputs derives the inputs of an argument struct type. A pointer to a struct is allowed;
// nil and struct{} give no inputs. Errors wrap ErrUnsupported for non-struct types,
// unsupported field types (chan, func, complex, unsafe pointer, non-empty interface, map
// with non-string keys), recursive types, bad `default` tags, the `,string` json option
// and duplicate names.
func Inputs(args reflect.Type) ([]Input, error) {
	if args == nil {
		return nil, nil
	}
	t := deref(args)
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: argument type %s is not a struct", ErrUnsupported, args)
	}
	b := builder{stack: map[reflect.Type]bool{t: true}}
	fields, err := b.fields(t)
	if err != nil {
		return nil, err
	}
	inputs := make([]Input, 0, len(fields))
	for _, f := range fields {
		s, err := b.fieldSchema(f.typ, Title(f.name), f.desc, f.def)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.goName, err)
		}
		inputs = append(inputs, Input{
			Name:        f.name,
			Required:    f.required,
			Schema:      compact(s),
			Description: f.desc,
			goType:      f.typ,
		})
	}
	return inputs, nil
}

// Output derives the schema of a method's result type as pydantic's one-field model
// `result: T` does: titled "Result", or the type name for a struct. A nil type (the method
// returns only an error) gives JSON null.
func Output(result reflect.Type) (json.RawMessage, error) {
	if result == nil {
		return json.RawMessage("null"), nil
	}
	b := builder{stack: map[reflect.Type]bool{}}
	s, err := b.fieldSchema(result, "Result", "", nil)
	if err != nil {
		return nil, err
	}
	return compact(s), nil
}

type field struct {
	name     string
	goName   string
	typ      reflect.Type
	required bool
	desc     string
	def      json.RawMessage // nil when there is no default (or it is null)
}

// builder derives schemas; stack holds the struct types being described, to refuse
// recursive types.
type builder struct {
	stack map[reflect.Type]bool
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func implements(t, iface reflect.Type) bool {
	return t.Implements(iface) || reflect.PointerTo(t).Implements(iface)
}

// isModel reports whether t is described as a pydantic model (an object with properties).
func isModel(t reflect.Type) bool {
	return t.Kind() == reflect.Struct && t != timeType &&
		!implements(t, jsonUnmarshalerType) && !implements(t, textUnmarshalerType)
}

// fields lists the JSON-visible fields of struct t in declaration order, flattening
// anonymous embedded structs as encoding/json does.
func (b *builder) fields(t reflect.Type) ([]field, error) {
	var out []field
	seen := map[string]string{}
	if err := b.collect(t, &out, seen); err != nil {
		return nil, err
	}
	return out, nil
}

func (b *builder) collect(t reflect.Type, out *[]field, seen map[string]string) error {
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			et := sf.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if isModel(et) {
				if sf.Type.Kind() == reflect.Pointer && !sf.IsExported() {
					continue // encoding/json cannot set it
				}
				if b.stack[et] {
					return fmt.Errorf("%w: recursive type %s", ErrUnsupported, et)
				}
				b.stack[et] = true
				err := b.collect(et, out, seen)
				delete(b.stack, et)
				if err != nil {
					return err
				}
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		omitempty := false
		for o := range strings.SplitSeq(opts, ",") {
			switch o {
			case "omitempty", "omitzero":
				omitempty = true
			case "string":
				return fmt.Errorf("%w: field %s: the json \",string\" option", ErrUnsupported, sf.Name)
			}
		}
		if prev, dup := seen[name]; dup {
			return fmt.Errorf("%w: duplicate name %q (fields %s and %s)", ErrUnsupported, name, prev, sf.Name)
		}
		seen[name] = sf.Name
		f := field{
			name:     name,
			goName:   sf.Name,
			typ:      sf.Type,
			required: sf.Type.Kind() != reflect.Pointer && !omitempty,
			desc:     sf.Tag.Get("desc"),
		}
		if text, ok := sf.Tag.Lookup("default"); ok {
			f.required = false
			def, err := parseDefault(sf.Type, text)
			if err != nil {
				return fmt.Errorf("field %s: %w", sf.Name, err)
			}
			f.def = def
		}
		*out = append(*out, f)
	}
	return nil
}

// parseDefault reads a `default` tag as JSON of type t. A text that is not JSON of t is
// taken as a literal string for string fields. Float literals are kept as written (Python
// shows `1` for `= 1` and `1.0` for `= 1.0`); other values are re-encoded from t, so a
// struct default lists every field as pydantic's encode_default does.
func parseDefault(t reflect.Type, text string) (json.RawMessage, error) {
	base := deref(t)
	v := reflect.New(t)
	if err := json.Unmarshal([]byte(text), v.Interface()); err != nil {
		if base.Kind() == reflect.String {
			return marshalNoHTML(text)
		}
		return nil, fmt.Errorf("%w: default %q is not JSON of type %s", ErrUnsupported, text, t)
	}
	trimmed := bytes.TrimSpace([]byte(text))
	if string(trimmed) == "null" {
		return nil, nil
	}
	if base.Kind() == reflect.Float32 || base.Kind() == reflect.Float64 {
		var b bytes.Buffer
		if err := json.Compact(&b, trimmed); err == nil {
			return b.Bytes(), nil
		}
	}
	raw, err := marshalNoHTML(v.Interface()) // the pointer: MarshalJSON may need it (big.Int)
	if err != nil {
		return nil, fmt.Errorf("%w: default %q: %v", ErrUnsupported, text, err)
	}
	return raw, nil
}

// fieldSchema is the schema of one model field: title, description, default, then the
// type's keys. A model-typed field without description or default is the model's own
// schema (pydantic's inlined $ref); with either it is wrapped in allOf as pydantic v1 does.
func (b *builder) fieldSchema(t reflect.Type, title, desc string, def json.RawMessage) (obj, error) {
	t = deref(t)
	head := obj{{"title", title}}
	if desc != "" {
		head = head.with("description", desc)
	}
	if def != nil {
		head = head.with("default", def)
	}
	if isModel(t) {
		m, err := b.model(t, title)
		if err != nil {
			return nil, err
		}
		if desc == "" && def == nil {
			return m, nil
		}
		return head.with("allOf", []any{m}), nil
	}
	ts, err := b.typeSchema(t, title)
	if err != nil {
		return nil, err
	}
	return append(head, ts...), nil
}

// model is the schema of a struct used as a pydantic model, titled with the type name
// (fallback for anonymous struct types).
func (b *builder) model(t reflect.Type, fallback string) (obj, error) {
	if b.stack[t] {
		return nil, fmt.Errorf("%w: recursive type %s", ErrUnsupported, t)
	}
	b.stack[t] = true
	defer delete(b.stack, t)
	fields, err := b.fields(t)
	if err != nil {
		return nil, err
	}
	props := obj{}
	var required []any
	for _, f := range fields {
		s, err := b.fieldSchema(f.typ, Title(f.name), f.desc, f.def)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t, f.goName, err)
		}
		props = props.with(f.name, s)
		if f.required {
			required = append(required, f.name)
		}
	}
	title := t.Name()
	if title == "" {
		title = fallback
	}
	m := obj{{"title", title}, {"type", "object"}, {"properties", props}}
	if len(required) > 0 {
		m = m.with("required", required)
	}
	return m, nil
}

// elemSchema is the schema of a list item or dict value: untitled, except that a model
// keeps its own title.
func (b *builder) elemSchema(t reflect.Type, fallback string) (obj, error) {
	t = deref(t)
	if isModel(t) {
		return b.model(t, fallback)
	}
	return b.typeSchema(t, fallback)
}

// typeSchema gives the type keys of a non-model type: nothing for Any, else "type" and
// its companions.
func (b *builder) typeSchema(t reflect.Type, title string) (obj, error) {
	switch {
	case t == rawMessageType:
		return obj{}, nil
	case t == bigIntType: // an exact integer of any size, like Python's int
		return obj{{"type", "integer"}}, nil
	case t == numberType: // a number kept as written
		return obj{{"type", "number"}}, nil
	case t == timeType:
		return obj{{"type", "string"}, {"format", "date-time"}}, nil
	case implements(t, jsonUnmarshalerType):
		return obj{}, nil
	case implements(t, textUnmarshalerType):
		return obj{{"type", "string"}}, nil
	}
	switch t.Kind() {
	case reflect.Bool:
		return obj{{"type", "boolean"}}, nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return obj{{"type", "integer"}}, nil
	case reflect.Float32, reflect.Float64:
		return obj{{"type", "number"}}, nil
	case reflect.String:
		return obj{{"type", "string"}}, nil
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return obj{}, nil
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 && !implements(t.Elem(), jsonUnmarshalerType) &&
			!implements(t.Elem(), textUnmarshalerType) {
			// encoding/json carries []byte as base64 text; pydantic's bytes is this schema.
			return obj{{"type", "string"}, {"format", "binary"}}, nil
		}
		items, err := b.elemSchema(t.Elem(), title)
		if err != nil {
			return nil, err
		}
		return obj{{"type", "array"}, {"items", items}}, nil
	case reflect.Array:
		items, err := b.elemSchema(t.Elem(), title)
		if err != nil {
			return nil, err
		}
		return obj{{"type", "array"}, {"items", items}, {"minItems", t.Len()}, {"maxItems", t.Len()}}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			break
		}
		vals, err := b.elemSchema(t.Elem(), title)
		if err != nil {
			return nil, err
		}
		s := obj{{"type", "object"}}
		if len(vals) > 0 {
			s = s.with("additionalProperties", vals)
		}
		return s, nil
	}
	return nil, fmt.Errorf("%w: type %s", ErrUnsupported, t)
}
