package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/at-technology/atqueue/wire"
)

// errJSON marks text that is not one JSON value (an answer the transport let through).
var errJSON = errors.New("invalid JSON")

// pyStyle is one way Python's json.dumps writes a value.
type pyStyle struct {
	ascii   bool   // ensure_ascii: every non-ASCII character as \uXXXX
	indent  string // "" writes everything on one line
	keySep  string
	itemSep string
}

var (
	// fastAPI is how FastAPI's JSONResponse writes a body: json.dumps(v,
	// ensure_ascii=False, separators=(",", ":")).
	fastAPI = pyStyle{keySep: ":", itemSep: ","}
	// indent4 is json.dumps(v, indent=4), the errors in ExternalMethodException's text.
	indent4 = pyStyle{ascii: true, indent: "    ", keySep: ": ", itemSep: ","}
)

// encode writes the JSON text raw as Python writes the value json.loads(raw) in style s:
// keys in the order written, numbers as Python prints them, strings re-escaped.
func (s pyStyle) encode(b *bytes.Buffer, raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := s.value(b, dec, 0); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: data after the JSON value", errJSON)
	}
	return nil
}

// text is encode into a new string.
func (s pyStyle) text(raw []byte) (string, error) {
	var b bytes.Buffer
	if err := s.encode(&b, raw); err != nil {
		return "", err
	}
	return b.String(), nil
}

func (s pyStyle) value(b *bytes.Buffer, dec *json.Decoder, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%w: %v", errJSON, err)
	}
	switch t := tok.(type) {
	case json.Delim:
		closing := byte('}')
		if t == '[' {
			closing = ']'
		}
		b.WriteByte(byte(t))
		n := 0
		for dec.More() {
			if n > 0 {
				b.WriteString(s.itemSep)
			}
			s.newline(b, depth+1)
			if closing == '}' {
				key, err := dec.Token()
				if err != nil {
					return fmt.Errorf("%w: %v", errJSON, err)
				}
				s.str(b, key.(string)) // the decoder allows only strings as keys
				b.WriteString(s.keySep)
			}
			if err := s.value(b, dec, depth+1); err != nil {
				return err
			}
			n++
		}
		if _, err := dec.Token(); err != nil {
			return fmt.Errorf("%w: %v", errJSON, err)
		}
		if n > 0 {
			s.newline(b, depth)
		}
		b.WriteByte(closing)
	case string:
		s.str(b, t)
	case json.Number:
		b.WriteString(pyNumber(string(t)))
	case bool:
		b.WriteString(strconv.FormatBool(t))
	case nil:
		b.WriteString("null")
	}
	return nil
}

func (s pyStyle) newline(b *bytes.Buffer, depth int) {
	if s.indent == "" {
		return
	}
	b.WriteByte('\n')
	for range depth {
		b.WriteString(s.indent)
	}
}

func (s pyStyle) str(b *bytes.Buffer, v string) {
	if !s.ascii {
		b.WriteString(wire.PyString(v))
		return
	}
	b.WriteByte('"')
	for _, r := range v {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(b, `\u%04x\u%04x`, hi, lo)
		default:
			if r == utf8.RuneError {
				r = 0xfffd
			}
			fmt.Fprintf(b, `\u%04x`, r)
		}
	}
	b.WriteByte('"')
}

// pyNumber is how Python prints the number json.loads reads from lit: an integer as
// written (without a minus on zero), a float as repr does (1e5 → 100000.0, 1e-05). A
// float out of range stays as written (Python would fail to answer at all).
func pyNumber(lit string) string {
	if !strings.ContainsAny(lit, ".eE") {
		if lit == "-0" {
			return "0"
		}
		return lit
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) {
		return lit
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e16 || a < 1e-4 {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	out := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(out, ".") {
		out += ".0"
	}
	return out
}
