package wire

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"unicode/utf8"
)

var errSyntax = errors.New("invalid JSON")

// scanner walks one JSON text without building values: enough to split an envelope into
// its top-level keys fast. It checks the grammar of what it skips (strings, numbers,
// literals, nesting) so that a body it accepts is valid JSON as Python's json module reads
// it: standard JSON plus the bare tokens NaN, Infinity and -Infinity where a number may
// stand, which json.dumps writes for non-finite floats.
type scanner struct {
	b     []byte
	i     int
	depth int
}

// maxDepth bounds the nesting of a body; deeper bodies are refused with errDepth.
const maxDepth = 512

var errDepth = fmt.Errorf("JSON nested too deeply (more than %d levels)", maxDepth)

// Python's json module writes non-finite floats as these tokens (allow_nan, its default).
const (
	tokNaN    = "NaN"
	tokInf    = "Infinity"
	tokNegInf = "-Infinity"
)

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) expect(c byte) error {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != c {
		return errSyntax
	}
	s.i++
	return nil
}

// str reads a string at s.i and returns its decoded value.
func (s *scanner) str() (string, error) {
	raw, escaped, err := s.strRaw()
	if err != nil {
		return "", err
	}
	if !escaped {
		return string(raw[1 : len(raw)-1]), nil
	}
	var out string
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", errSyntax
	}
	return out, nil
}

// name is str for an object key: the keys of the protocol come back as constants, so
// that splitting an envelope or a message builds no string for them.
func (s *scanner) name() (string, error) {
	raw, escaped, err := s.strRaw()
	if err != nil {
		return "", err
	}
	if !escaped {
		if k, ok := known(raw[1 : len(raw)-1]); ok {
			return k, nil
		}
		return string(raw[1 : len(raw)-1]), nil
	}
	var out string
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", errSyntax
	}
	return out, nil
}

// strRaw passes over the string at s.i and returns it with its quotes, checked as
// encoding/json reads a string: no control characters, only valid escapes. On failure s.i
// is left where str has always left it (after the closing quote as stringEnd finds it,
// or at the opening one when there is none), since error texts name that byte.
func (s *scanner) strRaw() (raw []byte, escaped bool, err error) {
	b, start := s.b, s.i
	bad := false
	for j := start + 1; j < len(b); j++ {
		if j+8 <= len(b) { // to the first quote, backslash or control byte of the next eight
			m := special(binary.LittleEndian.Uint64(b[j:]))
			if m == 0 {
				j += 7
				continue
			}
			j += bits.TrailingZeros64(m) / 8
		}
		c := b[j]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		switch c {
		case '"':
			s.i = j + 1
			if bad {
				return nil, false, errSyntax
			}
			return b[start : j+1], escaped, nil
		case '\\':
			// Like stringEnd, pass over the next byte whatever it is; check it meanwhile.
			escaped = true
			if j+1 < len(b) {
				switch b[j+1] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				case 'u':
					bad = bad || !isHex4(b[j+2:])
				default:
					bad = true
				}
			}
			j++
		default:
			bad = true // a control character
		}
	}
	return nil, false, errSyntax // unterminated: s.i stays at the opening quote
}

// special marks, in the high bit of each byte of w, the bytes that are a quote, a
// backslash or below 0x20; the lowest mark is always right (higher ones may be borrows).
func special(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q, bs := w^(ones*'"'), w^(ones*'\\')
	return ((w-ones*0x20)&^w | (q-ones)&^q | (bs-ones)&^bs) & highs
}

// isHex4 tells whether b starts with four hexadecimal digits.
func isHex4(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	for _, c := range b[:4] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// skip passes over one value and returns its raw bytes.
func (s *scanner) skip() ([]byte, error) {
	s.ws()
	if s.i >= len(s.b) {
		return nil, errSyntax
	}
	start := s.i
	switch c := s.b[s.i]; {
	case c == '"':
		if _, _, err := s.strRaw(); err != nil {
			return nil, err
		}
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		s.depth++
		if s.depth > maxDepth {
			return nil, errDepth
		}
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == closer {
			s.i++
			s.depth--
			break
		}
		for {
			if c == '{' {
				s.ws()
				if s.i >= len(s.b) || s.b[s.i] != '"' {
					return nil, errSyntax
				}
				if _, _, err := s.strRaw(); err != nil {
					return nil, err
				}
				if err := s.expect(':'); err != nil {
					return nil, err
				}
			}
			if _, err := s.skip(); err != nil {
				return nil, err
			}
			s.ws()
			if s.i >= len(s.b) {
				return nil, errSyntax
			}
			if s.b[s.i] == ',' {
				s.i++
				continue
			}
			if s.b[s.i] != closer {
				return nil, errSyntax
			}
			s.i++
			s.depth--
			break
		}
	case s.token(tokNegInf):
	case c == '-' || (c >= '0' && c <= '9'):
		for s.i < len(s.b) && isNumByte(s.b[s.i]) {
			s.i++
		}
		if !validNumber(s.b[start:s.i]) {
			return nil, errSyntax
		}
	default:
		for _, lit := range []string{"true", "false", "null", tokNaN, tokInf} {
			if s.token(lit) {
				return s.b[start:s.i], nil
			}
		}
		return nil, errSyntax
	}
	return s.b[start:s.i], nil
}

// token passes over lit when the text at s.i starts with it.
func (s *scanner) token(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// nonFiniteAt returns the Python token for a non-finite float at b[i:], "" if there is none.
func nonFiniteAt(b []byte, i int) string {
	for _, tok := range []string{tokNaN, tokInf, tokNegInf} {
		if len(b)-i >= len(tok) && string(b[i:i+len(tok)]) == tok {
			return tok
		}
	}
	return ""
}

func isNumByte(c byte) bool {
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// splitObject calls f for each key of the object that is the whole of b.
func splitObject(b []byte, f func(key string, raw []byte)) error {
	if !utf8.Valid(b) {
		return errors.New("body is not valid UTF-8")
	}
	s := &scanner{b: b}
	if err := s.expect('{'); err != nil {
		return errors.New("body is not a JSON object")
	}
	if err := s.object(f); err != nil {
		if err == errSyntax {
			return fmt.Errorf("%w at byte %d", err, s.i)
		}
		return err
	}
	s.ws()
	if s.i != len(s.b) {
		return fmt.Errorf("data after the JSON object at byte %d", s.i)
	}
	return nil
}

// object reads the members of an object whose '{' has been read, up to its '}'.
func (s *scanner) object(f func(key string, raw []byte)) error {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
	} else {
		for {
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != '"' {
				return errSyntax
			}
			key, err := s.name()
			if err != nil {
				return err
			}
			if err := s.expect(':'); err != nil {
				return err
			}
			s.ws()
			raw, err := s.skip()
			if err != nil {
				return err
			}
			f(key, raw)
			s.ws()
			if s.i < len(s.b) && s.b[s.i] == ',' {
				s.i++
				continue
			}
			if err := s.expect('}'); err != nil {
				return err
			}
			break
		}
	}
	return nil
}

// splitArray calls f for each element of the array that is the whole of b.
func splitArray(b []byte, f func(raw []byte)) error {
	s := &scanner{b: b}
	if err := s.expect('['); err != nil {
		return errors.New("not a JSON array")
	}
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
	} else {
		for {
			raw, err := s.skip()
			if err != nil {
				return err
			}
			f(raw)
			s.ws()
			if s.i < len(s.b) && s.b[s.i] == ',' {
				s.i++
				continue
			}
			if err := s.expect(']'); err != nil {
				return err
			}
			break
		}
	}
	s.ws()
	if s.i != len(s.b) {
		return errors.New("data after the JSON array")
	}
	return nil
}

// skipLoose passes over one value without checking it, counting brackets outside strings
// (no depth limit, no recursion), up to the ',' or closing bracket that ends it. It is
// false when the text ends first.
func (s *scanner) skipLoose() bool {
	depth := 0
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			end, _, err := stringEnd(s.b, s.i)
			if err != nil {
				return false
			}
			s.i = end + 1
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return true
			}
			depth--
		case ',':
			if depth == 0 {
				return true
			}
		}
		s.i++
	}
	return false
}

// validNumber tells whether b is one JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	return i == len(b)
}
