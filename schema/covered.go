package schema

import (
	"bytes"
	"encoding/json"
	"slices"
)

// covered tells whether the compiled JSON Schema check can find nothing wrong in what
// the coercer let through without an issue: every keyword of the schema is one the
// coercer enforces in full (type, properties, required, additionalProperties, items,
// allOf) or an annotation (title, description, default). The schemas Inputs derives are
// covered but for fixed-size arrays (minItems, maxItems) and formats; Validate skips the
// compiled check on arguments the coercer accepts when every input is covered. Anything
// unknown, malformed or too deep is not covered.
func covered(raw []byte, depth int) bool {
	if depth > maxDepth {
		return false
	}
	raw = bytes.TrimSpace(raw)
	if string(raw) == "true" {
		return true
	}
	keys, vals, err := parseObject(raw)
	if err != nil {
		return false
	}
	var typ string
	if t, ok := vals["type"]; ok {
		if json.Unmarshal(t, &typ) != nil { // a list of types: the coercer leaves it to the check
			return false
		}
		switch typ {
		case "integer", "number", "string", "boolean", "array", "object", "null":
		default:
			return false
		}
	}
	var props []string
	if p, ok := vals["properties"]; ok {
		if typ != "object" {
			return false
		}
		pkeys, pvals, err := parseObject(p)
		if err != nil {
			return false
		}
		for _, k := range pkeys {
			if !covered(pvals[k], depth+1) {
				return false
			}
		}
		props = pkeys
	}
	for _, k := range keys {
		v := vals[k]
		switch k {
		case "title", "description", "default", "type", "properties":
		case "items":
			if typ != "array" || !isObject(v) || !covered(v, depth+1) {
				return false
			}
		case "required":
			var names []string
			if typ != "object" || json.Unmarshal(v, &names) != nil {
				return false
			}
			for _, n := range names {
				if !slices.Contains(props, n) {
					return false
				}
			}
		case "additionalProperties":
			if typ != "object" {
				return false
			}
			if s := string(bytes.TrimSpace(v)); s != "true" && s != "false" && !covered(v, depth+1) {
				return false
			}
		case "allOf":
			var subs []json.RawMessage
			if json.Unmarshal(v, &subs) != nil {
				return false
			}
			for _, s := range subs {
				if !covered(s, depth+1) {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}
