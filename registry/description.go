package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/at-technology/atqueue/wire"
)

// ErrBadDescription marks a register payload that the Python registry would also refuse
// (spec §8.3); here it is answered with an error instead of silence.
var ErrBadDescription = errors.New("invalid component description")

// Description is a registered component, kept as the normalised JSON of spec §8.2 so that
// schemas are echoed unchanged.
type Description struct {
	Name string
	JSON json.RawMessage
}

// ParseDescription checks and normalises message.component of a register request.
func ParseDescription(raw json.RawMessage) (Description, error) {
	comp, err := object(raw, "component")
	if err != nil {
		return Description{}, err
	}
	name, err := requiredString(comp, "component", "name")
	if err != nil {
		return Description{}, err
	}
	desc, err := optionalString(comp, "component", "description")
	if err != nil {
		return Description{}, err
	}
	methodsRaw, ok := comp["methods"]
	if !ok {
		methodsRaw = json.RawMessage("{}")
	}
	methods, order, err := orderedObject(methodsRaw, "component.methods")
	if err != nil {
		return Description{}, err
	}
	var outMethods wire.Object
	for _, key := range order {
		m, err := normaliseMethod(key, methods[key])
		if err != nil {
			return Description{}, err
		}
		outMethods = append(outMethods, wire.Field{Key: key, Value: m})
	}
	if outMethods == nil {
		outMethods = wire.Object{}
	}
	out := wire.Object{{Key: "name", Value: name}, {Key: "description", Value: desc}, {Key: "methods", Value: outMethods}}
	b, err := wire.Compact(out)
	if err != nil {
		return Description{}, fmt.Errorf("%w: %v", ErrBadDescription, err)
	}
	return Description{Name: name, JSON: b}, nil
}

func normaliseMethod(key string, raw json.RawMessage) (wire.Object, error) {
	where := fmt.Sprintf("method %q", key)
	m, err := object(raw, where)
	if err != nil {
		return nil, err
	}
	name := key
	if _, ok := m["name"]; ok {
		if name, err = requiredString(m, where, "name"); err != nil {
			return nil, err
		}
	}
	desc, err := optionalString(m, where, "description")
	if err != nil {
		return nil, err
	}
	inputsRaw, ok := m["inputs"]
	if !ok {
		inputsRaw = json.RawMessage("{}")
	}
	inputs, order, err := orderedObject(inputsRaw, where+" inputs")
	if err != nil {
		return nil, err
	}
	var outInputs wire.Object
	for _, in := range order {
		v, err := normaliseArg(inputs[in], fmt.Sprintf("%s input %q", where, in), true)
		if err != nil {
			return nil, err
		}
		outInputs = append(outInputs, wire.Field{Key: in, Value: v})
	}
	if outInputs == nil {
		outInputs = wire.Object{}
	}
	outRaw, ok := m["output"]
	if !ok {
		return nil, fmt.Errorf("%w: %s has no output", ErrBadDescription, where)
	}
	output, err := normaliseArg(outRaw, where+" output", false)
	if err != nil {
		return nil, err
	}
	return wire.Object{{Key: "name", Value: name}, {Key: "description", Value: desc}, {Key: "inputs", Value: outInputs}, {Key: "output", Value: output}}, nil
}

// normaliseArg checks an input (isInput) or output object against the keys the Python
// registry's keyword construction accepts.
func normaliseArg(raw json.RawMessage, where string, isInput bool) (wire.Object, error) {
	o, err := object(raw, where)
	if err != nil {
		return nil, err
	}
	allowed := map[string]bool{"schema": true, "strict_validation": true, "description": true, "method": true}
	if isInput {
		allowed["name"] = true
		allowed["required"] = true
	}
	var extra []string
	for k := range o {
		if !allowed[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return nil, fmt.Errorf("%w: %s has unexpected keys %q", ErrBadDescription, where, extra)
	}
	schema, ok := o["schema"]
	if !ok {
		return nil, fmt.Errorf("%w: %s has no schema", ErrBadDescription, where)
	}
	strict, err := optionalBool(o, where, "strict_validation")
	if err != nil {
		return nil, err
	}
	desc, err := optionalString(o, where, "description")
	if err != nil {
		return nil, err
	}
	if !isInput {
		return wire.Object{{Key: "schema", Value: schema}, {Key: "strict_validation", Value: strict}, {Key: "description", Value: desc}}, nil
	}
	name, err := requiredString(o, where, "name")
	if err != nil {
		return nil, err
	}
	required, err := optionalBool(o, where, "required")
	if err != nil {
		return nil, err
	}
	return wire.Object{{Key: "name", Value: name}, {Key: "required", Value: required}, {Key: "schema", Value: schema},
		{Key: "strict_validation", Value: strict}, {Key: "description", Value: desc}}, nil
}

func object(raw json.RawMessage, where string) (map[string]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fmt.Errorf("%w: %s must be an object", ErrBadDescription, where)
	}
	var o map[string]json.RawMessage
	if err := wire.Unmarshal(raw, &o); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadDescription, where, err)
	}
	return o, nil
}

// orderedObject decodes an object and the order of its keys (a key written twice keeps
// its first place and its last value, as Python's json module does). Values may hold
// Python's NaN and Infinity.
func orderedObject(raw json.RawMessage, where string) (map[string]json.RawMessage, []string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, nil, fmt.Errorf("%w: %s must be an object", ErrBadDescription, where)
	}
	o := map[string]json.RawMessage{}
	var order []string
	err := wire.Fields(raw, func(k string, v []byte) {
		if _, ok := o[k]; !ok {
			order = append(order, k)
		}
		o[k] = v
	})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrBadDescription, where, err)
	}
	return o, order, nil
}

func requiredString(o map[string]json.RawMessage, where, key string) (string, error) {
	v, ok := o[key]
	if !ok || len(v) == 0 || v[0] != '"' {
		return "", fmt.Errorf("%w: %s needs a string %q", ErrBadDescription, where, key)
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fmt.Errorf("%w: %s.%s: %v", ErrBadDescription, where, key, err)
	}
	return s, nil
}

// optionalString returns nil for a missing or null value, so it is written as null.
func optionalString(o map[string]json.RawMessage, where, key string) (any, error) {
	v, ok := o[key]
	if !ok || string(v) == "null" {
		return nil, nil
	}
	if v[0] != '"' {
		return nil, fmt.Errorf("%w: %s.%s must be a string or null", ErrBadDescription, where, key)
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, fmt.Errorf("%w: %s.%s: %v", ErrBadDescription, where, key, err)
	}
	return s, nil
}

func optionalBool(o map[string]json.RawMessage, where, key string) (bool, error) {
	v, ok := o[key]
	if !ok || string(v) == "null" {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		return false, fmt.Errorf("%w: %s.%s must be a boolean", ErrBadDescription, where, key)
	}
	return b, nil
}
