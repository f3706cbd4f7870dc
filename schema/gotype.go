package schema

import (
	"encoding/json"
	"math"
	"math/big"
	"reflect"
	"slices"
)

var (
	bigIntType = reflect.TypeFor[big.Int]()
	numberType = reflect.TypeFor[json.Number]()
)

// limits are what a Go type can hold beyond what its JSON Schema says: the range of a
// sized integer, float32's range, or json.Number's exactness. Python's int and float
// have none, so a value the schema admits may still not fit; it is then an issue at its
// location, never a value that wraps around.
type limits struct {
	lo, hi  *big.Int // integer range, nil when unbounded (big.Int)
	lo64    int64    // lo and hi clamped to int64, to check an int64 without big.Int
	hi64    int64
	float32 bool // finite values must be within ±math.MaxFloat32
	exact   bool // json.Number: a number is kept as written
}

// intRange is the range of an integer kind.
func intRange(t reflect.Type) (lo, hi *big.Int) {
	bits := uint(t.Bits())
	one := big.NewInt(1)
	switch t.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return new(big.Int), new(big.Int).Sub(new(big.Int).Lsh(one, bits), one)
	}
	hi = new(big.Int).Sub(new(big.Int).Lsh(one, bits-1), one)
	return new(big.Int).Neg(new(big.Int).Add(hi, one)), hi
}

// annotate records on n, and the nodes below it, the limits of the Go type t that n's
// schema was derived from (schema.Inputs derives both from one type, so their shapes
// match; where they do not, nothing is recorded).
func annotate(n *node, t reflect.Type) {
	if n == nil || t == nil {
		return
	}
	t = deref(t)
	for _, sub := range n.allOf {
		annotate(sub, t)
	}
	switch {
	case t == bigIntType:
	case t == numberType:
		n.lim.exact = true
	case n.typ == "integer" && isIntKind(t.Kind()):
		n.lim.lo, n.lim.hi = intRange(t)
		n.lim.lo64, n.lim.hi64 = clamp64(n.lim.lo), clamp64(n.lim.hi)
	case n.typ == "number" && t.Kind() == reflect.Float32:
		n.lim.float32 = true
	case n.typ == "array" && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		annotate(n.items, t.Elem())
	case n.typ == "object" && t.Kind() == reflect.Map:
		annotate(n.extraNode, t.Elem())
	case n.typ == "object" && isModel(t):
		b := builder{stack: map[reflect.Type]bool{t: true}}
		fields, err := b.fields(t)
		if err != nil {
			return
		}
		for _, f := range fields {
			for _, p := range n.props {
				if p.name == f.name {
					annotate(p.node, f.typ)
				}
			}
		}
	}
}

func clamp64(b *big.Int) int64 {
	switch {
	case b.IsInt64():
		return b.Int64()
	case b.Sign() > 0:
		return math.MaxInt64
	}
	return math.MinInt64
}

func isIntKind(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return true
	}
	return false
}

// checkInt reports an integer outside the Go type's range, in pydantic v1's words for a
// conint(ge=..., le=...) field.
func (c *coercer) checkInt(n *node, i any, loc []any) bool {
	if n.lim.lo == nil {
		return true
	}
	if x, ok := i.(int64); ok && x >= n.lim.lo64 && x <= n.lim.hi64 {
		return true
	}
	b := bigOf(i)
	switch {
	case b.Cmp(n.lim.lo) < 0:
		c.addLimit(loc, "greater than or equal to", "value_error.number.not_ge", n.lim.lo)
	case b.Cmp(n.lim.hi) > 0:
		c.addLimit(loc, "less than or equal to", "value_error.number.not_le", n.lim.hi)
	default:
		return true
	}
	return false
}

// checkFloat reports a finite float beyond float32's range for a float32.
func (c *coercer) checkFloat(n *node, f float64, loc []any) bool {
	switch {
	case !n.lim.float32 || math.IsInf(f, 0) || math.Abs(f) <= math.MaxFloat32:
		return true
	case f > 0:
		c.addLimit(loc, "less than or equal to", "value_error.number.not_le", math.MaxFloat32)
	default:
		c.addLimit(loc, "greater than or equal to", "value_error.number.not_ge", -math.MaxFloat32)
	}
	return false
}

func (c *coercer) addLimit(loc []any, words, typ string, limit any) {
	c.issues = append(c.issues, Issue{
		Loc:  slices.Clone(loc), // loc may be a prop's own
		Msg:  "ensure this value is " + words + " " + numberText(limit),
		Type: typ,
		Ctx:  map[string]any{"limit_value": limit},
	})
}
