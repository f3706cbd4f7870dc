package schema

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf16"
)

// ErrUnsupported marks a Go type, struct tag or input schema this package cannot describe
// or compile.
var ErrUnsupported = errors.New("schema: unsupported")

// Issue is one validation failure, shaped like one entry of pydantic v1's
// ValidationError.errors().
type Issue struct {
	Loc  []any          // path; Loc[0] is the argument name, later elements are strings or ints
	Msg  string         // pydantic v1 wording where there is one
	Type string         // pydantic v1 error type code, "value_error" when there is none
	Ctx  map[string]any // pydantic's ctx (e.g. limit_value), nil when there is none
}

// ValidationError reports every issue found in one call's arguments, in input order.
type ValidationError struct {
	Issues []Issue
}

// Error renders the issues on one line for people, e.g. `b: value is not a valid integer`.
func (e *ValidationError) Error() string {
	if len(e.Issues) == 0 {
		return "invalid arguments"
	}
	var b strings.Builder
	for i, is := range e.Issues {
		if i > 0 {
			b.WriteString("; ")
		}
		for j, l := range is.Loc {
			if j > 0 {
				b.WriteByte('.')
			}
			fmt.Fprint(&b, l)
		}
		b.WriteString(": ")
		b.WriteString(is.Msg)
	}
	return b.String()
}

// Argument names the argument that failed first, "" when there are no issues.
func (e *ValidationError) Argument() string {
	if len(e.Issues) == 0 || len(e.Issues[0].Loc) == 0 {
		return ""
	}
	return fmt.Sprint(e.Issues[0].Loc[0])
}

// PydanticJSON renders the issues byte for byte as pydantic v1's
// ValidationError.json(indent=4), i.e. Python's json.dumps(errors, indent=4) with its
// default ensure_ascii=True.
func (e *ValidationError) PydanticJSON() string {
	if len(e.Issues) == 0 {
		return "[]"
	}
	var b strings.Builder
	b.WriteString("[")
	for i, is := range e.Issues {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n    {\n        \"loc\": ")
		if len(is.Loc) == 0 {
			b.WriteString("[]")
		} else {
			b.WriteString("[")
			for j, l := range is.Loc {
				if j > 0 {
					b.WriteString(",")
				}
				b.WriteString("\n            ")
				writeLocPy(&b, l)
			}
			b.WriteString("\n        ]")
		}
		b.WriteString(",\n        \"msg\": ")
		writePyString(&b, is.Msg)
		b.WriteString(",\n        \"type\": ")
		writePyString(&b, is.Type)
		if len(is.Ctx) > 0 {
			b.WriteString(",\n        \"ctx\": {")
			for i, k := range sortedKeys(is.Ctx) {
				if i > 0 {
					b.WriteString(",")
				}
				b.WriteString("\n            ")
				writePyString(&b, k)
				b.WriteString(": ")
				writePyValue(&b, is.Ctx[k])
			}
			b.WriteString("\n        }")
		}
		b.WriteString("\n    }")
	}
	b.WriteString("\n]")
	return b.String()
}

func writeLocPy(b *strings.Builder, l any) {
	switch l := l.(type) {
	case int:
		b.WriteString(strconv.Itoa(l))
	case int64:
		b.WriteString(strconv.FormatInt(l, 10))
	case string:
		writePyString(b, l)
	default:
		writePyString(b, fmt.Sprint(l))
	}
}

// writePyValue writes a ctx value: a number as Python writes it, anything else as text.
func writePyValue(b *strings.Builder, v any) {
	switch v.(type) {
	case int64, float64, *big.Int:
		b.WriteString(numberText(v))
	default:
		writePyString(b, fmt.Sprint(v))
	}
}

// numberText writes an integer or a float as Python's repr does.
func numberText(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case *big.Int:
		return x.String()
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eIN") {
			s += ".0"
		}
		return s
	}
	return fmt.Sprint(v)
}

// writePyString writes s as Python's json.dumps does with ensure_ascii=True.
func writePyString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	u := func(r rune) {
		b.WriteString(`\u`)
		b.WriteByte(hex[r>>12&0xf])
		b.WriteByte(hex[r>>8&0xf])
		b.WriteByte(hex[r>>4&0xf])
		b.WriteByte(hex[r&0xf])
	}
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r >= 0x20 && r < 0x7f:
				b.WriteByte(byte(r))
			case r < 0x10000:
				u(r)
			default:
				r1, r2 := utf16.EncodeRune(r)
				u(r1)
				u(r2)
			}
		}
	}
	b.WriteByte('"')
}
