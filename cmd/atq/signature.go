package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// member is one key of a JSON object, in the order the object has them.
type member struct {
	key   string
	value json.RawMessage
}

// members reads a JSON object keeping the order of its keys; nil for anything else.
func members(raw json.RawMessage) []member {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return out
		}
		k, _ := tok.(string)
		out = append(out, member{k, v})
	}
	return out
}

// schema is the part of a JSON Schema (as pydantic writes them) that a signature shows.
type schema struct {
	Title                string            `json:"title"`
	Description          string            `json:"description"`
	Type                 json.RawMessage   `json:"type"` // a string or a list of strings
	Format               string            `json:"format"`
	Enum                 []json.RawMessage `json:"enum"`
	Items                json.RawMessage   `json:"items"`
	Properties           json.RawMessage   `json:"properties"`
	Required             []string          `json:"required"`
	AdditionalProperties json.RawMessage   `json:"additionalProperties"`
	AnyOf                []json.RawMessage `json:"anyOf"`
	OneOf                []json.RawMessage `json:"oneOf"`
	AllOf                []json.RawMessage `json:"allOf"`
	Default              json.RawMessage   `json:"default"`
}

// parseSchema folds the shapes pydantic gives optional and defaulted fields into one
// schema, as the web console does: anyOf/oneOf with {"type": "null"} (pydantic v2's
// Optional) is the other type and nullable; allOf with one entry (v1's field of a model
// type with a default) is that entry; "type": [T, "null"] is T and nullable.
func parseSchema(raw json.RawMessage) (s schema, nullable bool) {
	_ = json.Unmarshal(raw, &s)
	if len(s.AllOf) == 1 {
		inner, n := parseSchema(s.AllOf[0])
		s = overlay(inner, s)
		nullable = nullable || n
	}
	alts := s.AnyOf
	if alts == nil {
		alts = s.OneOf
	}
	if alts != nil {
		var others []json.RawMessage
		for _, a := range alts {
			var t struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(a, &t) == nil && t.Type == "null" {
				nullable = true
				continue
			}
			others = append(others, a)
		}
		if len(others) == 1 {
			inner, n := parseSchema(others[0])
			s = overlay(inner, s)
			nullable = nullable || n
		} else {
			s.AnyOf, s.OneOf = others, nil
		}
	}
	var types []string
	if json.Unmarshal(s.Type, &types) == nil {
		var keep []string
		for _, t := range types {
			if t == "null" {
				nullable = true
			} else {
				keep = append(keep, t)
			}
		}
		if len(keep) == 1 {
			s.Type, _ = json.Marshal(keep[0])
		}
	}
	return s, nullable
}

// overlay is inner with the title, description and default of outer where it has them.
func overlay(inner, outer schema) schema {
	if outer.Title != "" {
		inner.Title = outer.Title
	}
	if outer.Description != "" {
		inner.Description = outer.Description
	}
	if outer.Default != nil {
		inner.Default = outer.Default
	}
	return inner
}

func (s schema) typeName() string {
	var t string
	if json.Unmarshal(s.Type, &t) == nil {
		return t
	}
	var ts []string
	if json.Unmarshal(s.Type, &ts) == nil {
		return strings.Join(ts, " | ")
	}
	return ""
}

// typeText is a schema as a type people read: integer, string (date-time), array of
// Point, "red" | "green", integer | null, any.
func typeText(raw json.RawMessage) string { return typeTextDepth(raw, 0) }

func typeTextDepth(raw json.RawMessage, depth int) string {
	s, nullable := parseSchema(raw)
	var text string
	alts := s.AnyOf
	if alts == nil {
		alts = s.OneOf
	}
	switch t := s.typeName(); {
	case len(s.Enum) > 0:
		vals := make([]string, len(s.Enum))
		for i, v := range s.Enum {
			vals[i] = compactJSON(v)
		}
		text = strings.Join(vals, " | ")
	case len(alts) > 0:
		parts := make([]string, len(alts))
		for i, a := range alts {
			parts[i] = typeTextDepth(a, depth+1)
		}
		text = strings.Join(parts, " | ")
	case t == "array":
		item := "any"
		if len(s.Items) > 0 && depth < 3 {
			item = typeTextDepth(s.Items, depth+1)
		}
		text = "array of " + item
	case t == "object" && s.Title != "" && len(s.Properties) > 0:
		text = s.Title
	case t == "object" && len(s.AdditionalProperties) > 0 && s.AdditionalProperties[0] == '{':
		text = "object of " + typeTextDepth(s.AdditionalProperties, depth+1)
	case t != "":
		text = t
		if s.Format != "" {
			text += " (" + s.Format + ")"
		}
	default:
		text = "any"
	}
	if nullable {
		text += " | null"
	}
	return text
}

func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// input is one argument of a method, as the description has it (docs/protocol.md §8).
type input struct {
	Name        string          `json:"name"`
	Required    bool            `json:"required"`
	Schema      json.RawMessage `json:"schema"`
	Description *string         `json:"description"`
}

// method is one method of a description.
type method struct {
	name        string
	Description *string         `json:"description"`
	Inputs      json.RawMessage `json:"inputs"`
	Output      struct {
		Schema json.RawMessage `json:"schema"`
	} `json:"output"`
}

func (m method) inputs() []input {
	var out []input
	for _, kv := range members(m.Inputs) {
		var in input
		_ = json.Unmarshal(kv.value, &in)
		if in.Name == "" {
			in.Name = kv.key
		}
		out = append(out, in)
	}
	return out
}

// signature is name(a: integer, b?: integer = 1) -> integer.
func (m method) signature() string {
	var args []string
	for _, in := range m.inputs() {
		a := in.Name
		if !in.Required {
			a += "?"
		}
		a += ": " + typeText(in.Schema)
		if s, _ := parseSchema(in.Schema); s.Default != nil {
			a += " = " + compactJSON(s.Default)
		}
		args = append(args, a)
	}
	out := "any"
	if len(m.Output.Schema) > 0 && string(m.Output.Schema) != "null" {
		out = typeText(m.Output.Schema)
	}
	return fmt.Sprintf("%s(%s) -> %s", m.name, strings.Join(args, ", "), out)
}

// argumentRows are the rows of a method's argument table: the path of each argument (and
// of the fields of the objects it holds), its type, required or optional with the
// default, and its description.
func argumentRows(m method) [][4]string {
	var rows [][4]string
	var walk func(path string, raw json.RawMessage, required bool, desc string, depth int)
	walk = func(path string, raw json.RawMessage, required bool, desc string, depth int) {
		s, _ := parseSchema(raw)
		req := "optional"
		if required {
			req = "required"
		}
		if s.Default != nil {
			req += ", default " + compactJSON(s.Default)
		}
		if desc == "" {
			desc = s.Description
		}
		rows = append(rows, [4]string{path, typeText(raw), req, desc})
		if s.typeName() == "object" && depth < 4 {
			need := map[string]bool{}
			for _, r := range s.Required {
				need[r] = true
			}
			for _, p := range members(s.Properties) {
				walk(path+"."+p.key, p.value, need[p.key], "", depth+1)
			}
		}
	}
	for _, in := range m.inputs() {
		desc := ""
		if in.Description != nil {
			desc = *in.Description
		}
		walk(in.Name, in.Schema, in.Required, desc, 0)
	}
	return rows
}
