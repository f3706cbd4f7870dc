package schema

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/at-technology/atqueue/wire"
)

// pydantic v1 messages and type codes.
const (
	msgMissing  = "field required"
	typMissing  = "value_error.missing"
	msgExtra    = "extra fields not permitted"
	typExtra    = "value_error.extra"
	msgInt      = "value is not a valid integer"
	typInt      = "type_error.integer"
	msgFloat    = "value is not a valid float"
	typFloat    = "type_error.float"
	msgStr      = "str type expected"
	typStr      = "type_error.str"
	msgBool     = "value could not be parsed to a boolean"
	typBool     = "type_error.bool"
	msgList     = "value is not a valid list"
	typList     = "type_error.list"
	msgDict     = "value is not a valid dict"
	typDict     = "type_error.dict"
	msgNone     = "none is not an allowed value"
	typNone     = "type_error.none.not_allowed"
	msgNotNone  = "value is not None"
	typNotNone  = "type_error.not_none"
	msgDatetime = "invalid datetime format"
	typDatetime = "value_error.datetime"
	typValue    = "value_error"
)

var msgDepth = fmt.Sprintf("value nested deeper than %d levels", maxDepth)

// coercer walks one call's arguments. It produces two trees: out, the coerced value
// returned to the caller, and chk, the same value without the nulls that pydantic's
// allow_none accepts, which the compiled jsonschema then checks.
type coercer struct {
	issues []Issue
	noChk  bool // build out only: no schema check will follow (see Validator.validate)
}

// newChkMap and newChkSlice make the containers of chk; nil with noChk.
func (c *coercer) newChkMap(n int) map[string]any {
	if c.noChk {
		return nil
	}
	return make(map[string]any, n)
}

func (c *coercer) newChkSlice(n int) []any {
	if c.noChk {
		return nil
	}
	return make([]any, n)
}

func (c *coercer) add(loc []any, msg, typ string) {
	c.issues = append(c.issues, Issue{Loc: slices.Clone(loc), Msg: msg, Type: typ}) // loc may be a prop's own
}

// child returns loc+k in a new slice, so sibling locations never share storage.
func child(loc []any, k any) []any {
	return append(loc[:len(loc):len(loc)], k)
}

// value coerces v against n (nil n: Any) and returns the coerced value and its check
// form. After an issue at loc both are nil; after issues inside a container they are the
// partly coerced container, so the schema check sees its shape.
func (c *coercer) value(n *node, v any, loc []any, nullable bool) (out, chk any) {
	if len(loc) > maxDepth {
		c.add(loc, msgDepth, typValue)
		return nil, nil
	}
	v, err := plain(v)
	if err != nil {
		c.add(loc, "value is not JSON-serialisable: "+err.Error(), typValue)
		return nil, nil
	}
	if v == nil {
		if nullable || n.isAny() || n.typ == "null" {
			return nil, nil
		}
		c.add(loc, msgNone, typNone)
		return nil, nil
	}
	if n == nil {
		return c.anyValue(v, loc)
	}
	if len(n.allOf) > 0 {
		before := len(c.issues)
		out, chk = v, v
		for _, sub := range n.allOf {
			out, chk = c.value(sub, out, loc, nullable)
			if len(c.issues) > before {
				return out, chk
			}
		}
		if n.typ == "" {
			return out, chk
		}
		v = out
	}
	switch n.typ {
	case "integer":
		i, ok := toInt(v)
		if !ok {
			c.add(loc, msgInt, typInt)
			return nil, nil
		}
		if !c.checkInt(n, i, loc) {
			return nil, nil
		}
		return i, i
	case "number":
		if num, ok := v.(json.Number); ok && n.lim.exact && isJSONNumber(string(num)) {
			// A json.Number argument keeps the digits sent, unless json.loads makes inf of them.
			if f, _ := toFloat(num); !isFloatLiteral(string(num)) || !math.IsInf(f, 0) {
				return num, num
			}
		}
		f, ok := toFloat(v)
		if !ok {
			c.add(loc, msgFloat, typFloat)
			return nil, nil
		}
		if !c.checkFloat(n, f, loc) {
			return nil, nil
		}
		return f, finite(f)
	case "boolean":
		b, ok := toBool(v)
		if !ok {
			c.add(loc, msgBool, typBool)
			return nil, nil
		}
		return b, b
	case "string":
		return c.str(n, v, loc)
	case "array":
		return c.array(n, v, loc)
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			c.add(loc, msgDict, typDict)
			return nil, nil
		}
		return c.object(n, m, loc)
	case "null":
		c.add(loc, msgNotNone, typNotNone)
		return nil, nil
	}
	return c.anyValue(v, loc)
}

// anyValue normalises a value of unconstrained type as json.loads would make it: numbers
// to int64 or float64 (json.Number for integers beyond int64, inf for floats beyond
// float64, NaN and the infinities kept), containers recursively.
func (c *coercer) anyValue(v any, loc []any) (any, any) {
	switch x := v.(type) {
	case float64:
		return x, finite(x)
	case json.Number:
		if !isJSONNumber(string(x)) {
			c.add(loc, msgFloat, typFloat)
			return nil, nil
		}
		if !isFloatLiteral(string(x)) {
			i, ok := intText(string(x))
			if !ok {
				c.add(loc, msgInt, typInt)
				return nil, nil
			}
			return i, i
		}
		f, _ := toFloat(x)
		return f, finite(f)
	case []any:
		out, chk := make([]any, len(x)), c.newChkSlice(len(x))
		for i, e := range x {
			o, ch := c.value(nil, e, child(loc, i), true)
			out[i] = o
			if chk != nil {
				chk[i] = ch
			}
		}
		return out, chk
	case map[string]any:
		out, chk := make(map[string]any, len(x)), c.newChkMap(len(x))
		for _, k := range sortedKeys(x) {
			o, ch := c.value(nil, x[k], child(loc, k), true)
			out[k] = o
			if chk != nil {
				chk[k] = ch
			}
		}
		return out, chk
	}
	return v, v
}

func (c *coercer) array(n *node, v any, loc []any) (any, any) {
	a, ok := v.([]any)
	if !ok {
		c.add(loc, msgList, typList)
		return nil, nil
	}
	out, chk := make([]any, len(a)), c.newChkSlice(len(a))
	for i, e := range a {
		o, ch := c.value(n.items, e, child(loc, i), false)
		out[i] = o
		if chk != nil {
			chk[i] = ch
		}
	}
	return out, chk
}

// object coerces a dict or model: properties in schema order (missing ones reported or
// filled from their default), then the other keys in sorted order.
func (c *coercer) object(n *node, m map[string]any, loc []any) (map[string]any, map[string]any) {
	return c.objectInto(make(map[string]any, len(m)), n, m, loc)
}

// objectInto is object writing into out, an empty map.
func (c *coercer) objectInto(out map[string]any, n *node, m map[string]any, loc []any) (map[string]any, map[string]any) {
	chk := c.newChkMap(len(m))
	for _, p := range n.props {
		pl := p.loc
		if pl == nil {
			pl = child(loc, p.name)
		}
		v, present := m[p.name]
		if !present {
			switch {
			case p.node.def != nil:
				c.fillDefault(p, pl, out, chk)
			case p.required:
				c.add(pl, msgMissing, typMissing)
			}
			continue
		}
		before := len(c.issues)
		o, ch := c.value(p.node, v, pl, p.nullable())
		out[p.name] = o
		if chk != nil && (len(c.issues) > before || o != nil || !p.nullable()) {
			chk[p.name] = ch
		}
	}
	extra := false
	for k := range m {
		if !n.has[k] {
			extra = true
			break
		}
	}
	if !extra {
		return out, chk
	}
	for _, k := range sortedKeys(m) {
		if n.has[k] {
			continue
		}
		switch n.extra {
		case extraForbid:
			c.add(child(loc, k), msgExtra, typExtra)
		case extraKeep:
			o, ch := c.value(nil, m[k], child(loc, k), true)
			out[k] = o
			if chk != nil {
				chk[k] = ch
			}
		case extraSchema:
			o, ch := c.value(n.extraNode, m[k], child(loc, k), false)
			out[k] = o
			if chk != nil {
				chk[k] = ch
			}
		}
	}
	return out, chk
}

// fillDefault puts a fresh copy of p's default into out, coerced like a sent value when
// that succeeds; pydantic does not validate defaults, so a failure is not an issue.
func (c *coercer) fillDefault(p prop, loc []any, out, chk map[string]any) {
	v, err := decodeJSON(p.node.def)
	if err != nil {
		return
	}
	sub := coercer{noChk: c.noChk}
	o, ch := sub.value(p.node, v, loc, true)
	if len(sub.issues) == 0 {
		out[p.name] = o
		if chk != nil {
			chk[p.name] = ch
		}
		return
	}
	sub.issues = nil
	out[p.name], _ = sub.value(nil, v, loc, true)
}

func (c *coercer) str(n *node, v any, loc []any) (any, any) {
	if n.format == "date-time" {
		t, ok := toTime(v)
		if !ok {
			c.add(loc, msgDatetime, typDatetime)
			return nil, nil
		}
		s := t.Format(time.RFC3339Nano)
		return s, s
	}
	s, ok := v.(string)
	if !ok {
		c.add(loc, msgStr, typStr)
		return nil, nil
	}
	if n.format == "binary" {
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			c.add(loc, "value is not valid base64", typValue)
			return nil, nil
		}
	}
	return s, s
}

// toTime follows pydantic v1's parse_datetime: Unix seconds (milliseconds above 2e10) as a
// number or numeric string, or an ISO 8601 date and time; a time without offset is UTC.
func toTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case int64:
		return fromUnix(float64(x))
	case float64:
		return fromUnix(x)
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return time.Time{}, false
		}
		return fromUnix(f)
	case string:
		s := strings.TrimSpace(x)
		if f, ok := strAsFloat(s); ok && !math.IsNaN(f) && !math.IsInf(f, 0) {
			return fromUnix(f)
		}
		for _, layout := range []string{
			time.RFC3339Nano, "2006-01-02 15:04:05.999999999Z07:00",
			"2006-01-02T15:04Z07:00", "2006-01-02 15:04Z07:00",
		} {
			if t, err := time.Parse(layout, s); err == nil {
				return t, true
			}
		}
		for _, layout := range []string{
			"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999",
			"2006-01-02T15:04", "2006-01-02 15:04",
		} {
			if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

func fromUnix(sec float64) (time.Time, bool) {
	const maxNumber, msWatershed = 3e20, 2e10
	switch {
	case math.IsNaN(sec):
		return time.Time{}, false
	case sec > maxNumber:
		return time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), true
	case sec < -maxNumber:
		return time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), true
	}
	for math.Abs(sec) > msWatershed {
		sec /= 1000
	}
	whole := math.Floor(sec)
	micros := math.Round((sec - whole) * 1e6) // datetime has microsecond resolution
	return time.Unix(int64(whole), int64(micros)*1000).UTC(), true
}

// plain turns v into one of the types encoding/json decodes into (with UseNumber or
// not); other Go values go through a JSON round trip.
func plain(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string, json.Number, float64, int64, []any, map[string]any:
		return x, nil
	case float32:
		return float64(x), nil
	case int:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint:
		return plain(uint64(x))
	case uint64:
		if x > math.MaxInt64 {
			return json.Number(strconv.FormatUint(x, 10)), nil
		}
		return int64(x), nil
	case big.Int:
		if i, ok := intText(x.String()); ok {
			return i, nil
		}
		return json.Number(x.String()), nil
	case *big.Int:
		if x == nil {
			return nil, nil
		}
		return plain(*x)
	case json.RawMessage:
		return decodeJSON(x)
	}
	return roundTrip(v)
}

// roundTrip turns a Go value into the types Validate works on through its JSON form,
// written and read as a Python peer would (NaN and the infinities included).
func roundTrip(v any) (out any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("marshal panicked: %v", r)
		}
	}()
	raw, err := wire.Compact(v)
	if err != nil {
		return nil, err
	}
	return decodeJSON(raw)
}

func decodeJSON(raw []byte) (any, error) {
	var v any
	if err := wire.UnmarshalNumbers(raw, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// isJSONNumber reports whether s is a number literal in JSON syntax.
func isJSONNumber(s string) bool {
	if s == "" || !(s[0] == '-' || s[0] >= '0' && s[0] <= '9') {
		return false
	}
	return json.Valid([]byte(s))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
