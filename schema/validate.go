package schema

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// rootLoc is pydantic's location for an error that belongs to no field.
const rootLoc = "__root__"

// Validator checks one method's arguments. It is immutable after Compile and safe for
// concurrent use.
type Validator struct {
	root    *node
	rank    map[string]int // input name → position
	schema  *jsonschema.Schema
	covered bool // the coercer checks all the schema checks (see covered)
}

// Compile prepares the validation of a method's inputs: the coercion rules and a JSON
// Schema (draft 2020-12) of the arguments object, compiled once. With allowExtra (a Python
// method with **kwargs) unknown arguments are kept; otherwise each one is an issue.
// Inputs that Inputs derived from Go types also check what those types can hold: an
// int8 argument of 300 is an issue at its location, not a value that wraps around.
// Errors wrap ErrUnsupported for unnamed or duplicate inputs and schemas that do not parse
// or compile.
func Compile(inputs []Input, allowExtra bool) (*Validator, error) {
	root := &node{typ: "object", has: map[string]bool{}, extra: extraForbid}
	if allowExtra {
		root.extra = extraKeep
	}
	v := &Validator{root: root, rank: map[string]int{}, covered: true}
	props := map[string]any{}
	required := []any{}
	for i, in := range inputs {
		if in.Name == "" {
			return nil, fmt.Errorf("%w: input %d has no name", ErrUnsupported, i)
		}
		if root.has[in.Name] {
			return nil, fmt.Errorf("%w: duplicate input %q", ErrUnsupported, in.Name)
		}
		n, err := parseNode(in.Schema, 1)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", in.Name, err)
		}
		annotate(n, in.goType)
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(in.Schema))
		if err != nil {
			return nil, fmt.Errorf("%w: input %q: %v", ErrUnsupported, in.Name, err)
		}
		v.covered = v.covered && covered(in.Schema, 1)
		root.has[in.Name] = true
		root.props = append(root.props, prop{name: in.Name, node: n, required: in.Required, loc: []any{in.Name}})
		v.rank[in.Name] = i
		props[in.Name] = doc
		if in.Required {
			required = append(required, in.Name)
		}
	}
	const url = "urn:atqueue:arguments"
	c := jsonschema.NewCompiler()
	doc := map[string]any{
		"type":                 "object",
		"properties":           props,
		"required":             required,
		"additionalProperties": allowExtra,
	}
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	v.schema = sch
	return v, nil
}

// Validate applies pydantic's lax coercions to args, checks the result with the compiled
// JSON Schema, fills defaults and returns the coerced arguments as int64, float64 (NaN
// and the infinities included), bool, string, []any, map[string]any and nil, with
// json.Number for integers beyond int64 (and for json.Number arguments). args is not
// modified. Every problem is reported, in input order, in a *ValidationError.
func (v *Validator) Validate(args map[string]any) (map[string]any, error) {
	if v == nil {
		return nil, fmt.Errorf("%w: nil Validator", ErrUnsupported)
	}
	if args == nil {
		args = map[string]any{}
	}
	return v.validate(make(map[string]any, len(args)), args, v.covered)
}

// ValidateInto is Validate writing the coerced arguments into dst, an empty map that is
// not args, instead of a new map: a caller that serves many calls can use one map again
// and again. On failure dst is left empty.
func (v *Validator) ValidateInto(dst, args map[string]any) error {
	if v == nil {
		return fmt.Errorf("%w: nil Validator", ErrUnsupported)
	}
	if args == nil {
		args = map[string]any{}
	}
	_, err := v.validate(dst, args, v.covered)
	if err != nil {
		clear(dst)
	}
	return err
}

// validate is Validate into dst; with skipCheck, arguments the coercer accepts are not
// checked again by the compiled schema (nor is what it would check built).
func (v *Validator) validate(dst, args map[string]any, skipCheck bool) (map[string]any, error) {
	if skipCheck {
		c := coercer{noChk: true}
		out, _ := c.objectInto(dst, v.root, args, nil)
		if len(c.issues) == 0 {
			return out, nil
		}
		clear(dst) // done again below, with the check
	}
	var c coercer
	out, chk := c.objectInto(dst, v.root, args, nil)
	if err := v.check(chk); err != nil {
		c.addSchemaError(err, chk)
	}
	if len(c.issues) == 0 {
		return out, nil
	}
	slices.SortStableFunc(c.issues, func(a, b Issue) int { return v.rankOf(a) - v.rankOf(b) })
	return nil, &ValidationError{Issues: c.issues}
}

// check runs the compiled schema; a panic inside it is reported, not propagated.
func (v *Validator) check(chk map[string]any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("schema check failed: %v", r)
		}
	}()
	return v.schema.Validate(chk)
}

func (v *Validator) rankOf(is Issue) int {
	if len(is.Loc) > 0 {
		if name, ok := is.Loc[0].(string); ok {
			if r, ok := v.rank[name]; ok {
				return r
			}
			if name != rootLoc {
				return len(v.rank)
			}
		}
	}
	return len(v.rank) + 1
}

// addSchemaError turns the leaves of a jsonschema error into issues, in pydantic's wording
// where the kind is known. A leaf at or below a location the coercer already reported is
// dropped: it is the same problem seen twice.
func (c *coercer) addSchemaError(err error, chk map[string]any) {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		c.add([]any{rootLoc}, err.Error(), typValue)
		return
	}
	own := len(c.issues)
	add := func(loc []any, msg, typ string) {
		if len(loc) == 0 {
			loc = []any{rootLoc}
		}
		for i, is := range c.issues {
			if i < own && hasPrefix(loc, is.Loc) || slices.Equal(loc, is.Loc) && is.Msg == msg {
				return
			}
		}
		c.add(loc, msg, typ)
	}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, cause := range e.Causes {
				walk(cause)
			}
			return
		}
		loc := instanceLoc(e.InstanceLocation, chk)
		switch k := e.ErrorKind.(type) {
		case *kind.Required:
			for _, name := range k.Missing {
				add(child(loc, name), msgMissing, typMissing)
			}
		case *kind.AdditionalProperties:
			for _, name := range k.Properties {
				add(child(loc, name), msgExtra, typExtra)
			}
		case *kind.Type:
			msg, typ := typeIssue(k)
			if msg == "" {
				msg, typ = leafMessage(e), typValue
			}
			add(loc, msg, typ)
		case *kind.MinItems:
			add(loc, fmt.Sprintf("ensure this value has at least %d items", k.Want), "value_error.list.min_items")
		case *kind.MaxItems:
			add(loc, fmt.Sprintf("ensure this value has at most %d items", k.Want), "value_error.list.max_items")
		default:
			add(loc, leafMessage(e), typValue)
		}
	}
	walk(ve)
}

func typeIssue(k *kind.Type) (string, string) {
	if k.Got == "null" {
		return msgNone, typNone
	}
	if len(k.Want) != 1 {
		return "", ""
	}
	switch k.Want[0] {
	case "integer":
		return msgInt, typInt
	case "number":
		return msgFloat, typFloat
	case "string":
		return msgStr, typStr
	case "boolean":
		return msgBool, typBool
	case "array":
		return msgList, typList
	case "object":
		return msgDict, typDict
	case "null":
		return msgNotNone, typNotNone
	}
	return "", ""
}

// leafMessage is the validator's own English message for one error kind.
func leafMessage(e *jsonschema.ValidationError) string {
	leaf := &jsonschema.ValidationError{ErrorKind: e.ErrorKind}
	if out := leaf.BasicOutput(); out.Error != nil {
		return out.Error.String()
	}
	return "invalid value"
}

// instanceLoc converts a jsonschema instance location to a pydantic loc, with list
// indexes as ints.
func instanceLoc(tokens []string, root any) []any {
	loc := make([]any, 0, len(tokens))
	cur := root
	for _, tok := range tokens {
		switch x := cur.(type) {
		case []any:
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(x) {
				loc = append(loc, i)
				cur = x[i]
				continue
			}
			cur = nil
		case map[string]any:
			cur = x[tok]
		default:
			cur = nil
		}
		loc = append(loc, tok)
	}
	return loc
}

func hasPrefix(loc, prefix []any) bool {
	return len(prefix) <= len(loc) && slices.Equal(loc[:len(prefix)], prefix)
}
