package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// maxDepth bounds the nesting of values and schemas the validator walks.
const maxDepth = 64

// extraMode says what an object does with keys that are not among its properties.
type extraMode int

const (
	extraDrop   extraMode = iota // nested model: ignored, as pydantic's default Config
	extraKeep                    // plain dict or **kwargs: kept
	extraForbid                  // additionalProperties false: "extra fields not permitted"
	extraSchema                  // additionalProperties is a schema: validated against it
)

// node is the part of a JSON Schema that drives the lax coercions. Keywords it does not
// know are left to the compiled jsonschema, which runs afterwards.
type node struct {
	typ       string // one JSON Schema type, or "" when absent or a list
	format    string
	items     *node
	props     []prop
	has       map[string]bool // names of props
	extra     extraMode
	extraNode *node
	allOf     []*node
	def       json.RawMessage // "default", nil when absent or null
	lim       limits          // what the Go type behind the schema can hold, if known
}

type prop struct {
	name     string
	node     *node
	required bool
	loc      []any // [name] for an input (a top-level property), shared by its issues
}

func (n *node) isAny() bool { return n == nil || (n.typ == "" && len(n.allOf) == 0) }

// nullable reports whether a property accepts null: pydantic v1 gives a non-required
// field without a default (Optional, `= None`) allow_none.
func (p prop) nullable() bool { return !p.required && p.node.def == nil }

func parseNode(raw []byte, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: schema nested deeper than %d levels", ErrUnsupported, maxDepth)
	}
	raw = bytes.TrimSpace(raw)
	if string(raw) == "true" || string(raw) == "false" {
		return &node{extra: extraKeep}, nil
	}
	_, vals, err := parseObject(raw)
	if err != nil {
		return nil, err
	}
	n := &node{}
	_ = json.Unmarshal(vals["type"], &n.typ)
	_ = json.Unmarshal(vals["format"], &n.format)
	if it, ok := vals["items"]; ok && isObject(it) {
		if n.items, err = parseNode(it, depth+1); err != nil {
			return nil, err
		}
	}
	var required []string
	_ = json.Unmarshal(vals["required"], &required)
	_, hasProps := vals["properties"]
	n.has = map[string]bool{}
	if hasProps {
		pkeys, pvals, err := parseObject(vals["properties"])
		if err != nil {
			return nil, err
		}
		for _, k := range pkeys {
			pn, err := parseNode(pvals[k], depth+1)
			if err != nil {
				return nil, err
			}
			n.has[k] = true
			n.props = append(n.props, prop{name: k, node: pn, required: slices.Contains(required, k)})
		}
	}
	switch ap, ok := vals["additionalProperties"]; {
	case !ok && hasProps:
		n.extra = extraDrop
	case !ok, string(bytes.TrimSpace(ap)) == "true":
		n.extra = extraKeep
	case string(bytes.TrimSpace(ap)) == "false":
		n.extra = extraForbid
	default:
		if n.extraNode, err = parseNode(ap, depth+1); err != nil {
			return nil, err
		}
		n.extra = extraSchema
		if n.extraNode.isAny() {
			n.extra, n.extraNode = extraKeep, nil
		}
	}
	var subs []json.RawMessage
	_ = json.Unmarshal(vals["allOf"], &subs)
	for _, s := range subs {
		sn, err := parseNode(s, depth+1)
		if err != nil {
			return nil, err
		}
		n.allOf = append(n.allOf, sn)
	}
	if d, ok := vals["default"]; ok && string(bytes.TrimSpace(d)) != "null" {
		n.def = d
	}
	return n, nil
}

func isObject(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// parseObject splits a JSON object into its keys, in document order, and raw values.
func parseObject(raw []byte) ([]string, map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("%w: schema is not a JSON object", ErrUnsupported)
	}
	var keys []string
	vals := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("%w: schema: %v", ErrUnsupported, err)
		}
		k, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, fmt.Errorf("%w: schema: %v", ErrUnsupported, err)
		}
		if _, dup := vals[k]; !dup {
			keys = append(keys, k)
		}
		vals[k] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("%w: schema: %v", ErrUnsupported, err)
	}
	return keys, vals, nil
}
