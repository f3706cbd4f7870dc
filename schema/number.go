package schema

import (
	"encoding/json"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// The number rules of pydantic v2 in lax mode, for the Python values json.loads makes of
// a JSON text (docs/numbers.md has the table, case by case, with pydantic v1 beside it).
// JSON integers are Python ints of any size; JSON numbers with a fraction or exponent are
// floats, 1e400 being inf; NaN, Infinity and -Infinity are floats.

// maxIntText bounds the digits of an integer read from a string, as Python and pydantic
// do (CVE-2020-10735).
const maxIntText = 4300

// two63 is 2**63: pydantic v2 turns a float into an int only strictly inside ±2**63.
const two63 = 1 << 63

// toInt returns the integer v stands for: an int64, or a json.Number holding the exact
// decimal digits of an integer beyond int64.
func toInt(v any) (any, bool) {
	switch x := v.(type) {
	case bool: // bool is an int in Python: lax mode accepts it
		if x {
			return int64(1), true
		}
		return int64(0), true
	case int64:
		return x, true
	case float64:
		return floatAsInt(x)
	case json.Number:
		if !isFloatLiteral(string(x)) {
			return intText(string(x))
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil && !math.IsInf(f, 0) {
			return nil, false
		}
		return floatAsInt(f)
	case string:
		return strAsInt(x)
	}
	return nil, false
}

// isFloatLiteral tells a JSON number json.loads reads as a float from one it reads as an int.
func isFloatLiteral(s string) bool { return strings.ContainsAny(s, ".eE") }

// floatAsInt is pydantic v2's float_as_int: finite, integral and strictly inside ±2**63.
func floatAsInt(f float64) (any, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f != math.Trunc(f) || f <= -two63 || f >= two63 {
		return nil, false
	}
	return int64(f), true
}

// intText reads a JSON integer: an optional '-' and ASCII digits.
func intText(s string) (any, bool) {
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || len(digits) > maxIntText {
		return nil, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return nil, false
		}
	}
	if len(digits) <= 18 {
		i, err := strconv.ParseInt(s, 10, 64)
		return i, err == nil
	}
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		return nil, false
	}
	if b.IsInt64() {
		return b.Int64(), true
	}
	return json.Number(b.String()), true
}

// strAsInt is pydantic v2's str_as_int: a JSON integer, or else one once surrounding
// whitespace, a leading '+', leading zeros, a fraction of zeros ("12.00") and single
// underscores between digits ("1_000") are dropped. Only ASCII digits count.
func strAsInt(s string) (any, bool) {
	if len(s) > maxIntText {
		return nil, false
	}
	if v, ok := intText(s); ok {
		return v, true
	}
	cleaned, ok := cleanIntText(s)
	if !ok {
		return nil, false
	}
	return intText(cleaned)
}

func cleanIntText(s string) (string, bool) {
	before := len(s)
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		if strings.HasPrefix(rest, "-") {
			return "", false
		}
		s = rest
	}
	sign := ""
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		if strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "+") {
			return "", false
		}
		sign, s = "-", rest
	}
	s, ok := stripLeadingZeros(s)
	if !ok {
		return "", false
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		if frac := s[i+1:]; frac != "" && strings.Trim(frac, "0") == "" {
			s = s[:i]
		}
	}
	if stripped, ok := stripUnderscores(s); ok {
		return sign + stripped, true
	}
	if len(s) == before {
		return "", false
	}
	return sign + s, true
}

// stripLeadingZeros drops the zeros (and underscores among them) before the first other
// digit, keeping one before a '.' or when there is nothing else; false when s does not
// begin with a digit.
func stripLeadingZeros(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	switch c := s[0]; {
	case c == '0':
	case c >= '1' && c <= '9' || c == '-':
		return s, true
	default:
		return "", false
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '0' || c == '_':
		case c >= '1' && c <= '9' || c == '-':
			return s[i:], true
		case c == '.':
			return s[i-1:], true
		default:
			return "", false
		}
	}
	return s[len(s)-1:], true
}

// stripUnderscores removes the underscores of s when each stands alone between other
// characters, as Python's number syntax allows; false when there is nothing to remove or
// they are misplaced.
func stripUnderscores(s string) (string, bool) {
	if !strings.Contains(s, "_") || strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") || strings.Contains(s, "__") {
		return "", false
	}
	return strings.ReplaceAll(s, "_", ""), true
}

// toFloat returns the float v stands for in lax mode. NaN and the infinities are floats
// (pydantic's allow_inf_nan, on by default).
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		switch {
		case err == nil:
			return f, true
		case !math.IsInf(f, 0):
			return 0, false
		case isFloatLiteral(string(x)):
			return f, true // a float literal beyond float64 is inf to json.loads
		}
		return 0, false // an int too large for a float: Python's OverflowError
	case string:
		return strAsFloat(x)
	}
	return 0, false
}

// strAsFloat is pydantic v2's str_as_float: Rust's float syntax after trimming (which
// takes inf, infinity and nan in any case, with a sign), or else the untrimmed text
// without its single underscores.
func strAsFloat(s string) (float64, bool) {
	if f, ok := rustFloat(strings.TrimSpace(s)); ok {
		return f, true
	}
	if stripped, ok := stripUnderscores(s); ok {
		return rustFloat(stripped)
	}
	return 0, false
}

// rustFloat parses s with the grammar of Rust's f64::from_str: [sign] (inf | infinity |
// nan | digits [. digits] [(e|E) [sign] digits]), a mantissa with at least one digit;
// values beyond float64 are infinite.
func rustFloat(s string) (float64, bool) {
	t := s
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	switch strings.ToLower(t) {
	case "inf", "infinity":
		if neg {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	case "nan":
		return math.NaN(), true
	}
	i, mantissa := 0, 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i, mantissa = i+1, mantissa+1
	}
	if i < len(t) && t[i] == '.' {
		i++
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i, mantissa = i+1, mantissa+1
		}
	}
	if mantissa == 0 {
		return 0, false
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		exp := i
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
		if i == exp {
			return 0, false
		}
	}
	if i != len(t) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil || math.IsInf(f, 0)
}

// toBool follows pydantic v2: booleans, the ints 0 and 1, the floats 0.0 and 1.0 and a
// fixed set of words in any ASCII case.
func toBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case int64:
		return x == 1, x == 0 || x == 1
	case float64:
		return x == 1, x == 0 || x == 1
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return f == 1, err == nil && (f == 0 || f == 1)
	case string:
		switch asciiLower(x) {
		case "1", "on", "t", "true", "y", "yes":
			return true, true
		case "0", "off", "f", "false", "n", "no":
			return false, true
		}
	}
	return false, false
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// bigOf returns an integer toInt made as a big.Int.
func bigOf(v any) *big.Int {
	switch x := v.(type) {
	case int64:
		return big.NewInt(x)
	case json.Number:
		b, _ := new(big.Int).SetString(string(x), 10)
		return b
	}
	return nil
}

// finite replaces NaN and the infinities by 0 in the tree the JSON Schema check sees,
// which knows no such numbers; the coercions have judged them already.
func finite(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return float64(0)
	}
	return f
}
