package bench

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// Field is one key of a JSON line and its value (anything encoding/json encodes; Num
// and Ms for rounded numbers).
type Field struct {
	Key   string
	Value any
}

// Line is one JSON object on one line, its keys in the order given and separated as
// Python's json.dumps separates them: {"mode": "serial", "calls": 1000}.
func Line(fields ...Field) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteString(", ")
		}
		k, _ := json.Marshal(f.Key)
		b.Write(k)
		b.WriteString(": ")
		v, err := json.Marshal(f.Value)
		if err != nil {
			v, _ = json.Marshal(err.Error())
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.String()
}

// Num is x rounded to digits decimals, as a JSON number (null when x is not finite).
func Num(x float64, digits int) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	p := math.Pow10(digits)
	return json.Number(strconv.FormatFloat(math.Round(x*p)/p, 'f', -1, 64))
}

// Ms is d in milliseconds, to the microsecond.
func Ms(d time.Duration) any { return Num(float64(d)/float64(time.Millisecond), 3) }

// F is Field{key, value}, for short lists of fields.
func F(key string, value any) Field { return Field{Key: key, Value: value} }

// Cores is a CPU share in cores, to the hundredth; null when unknown (negative).
func Cores(c float64) any {
	if c < 0 {
		return nil
	}
	return Num(c, 2)
}
