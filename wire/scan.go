package wire

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
)

var errSyntax = errors.New("invalid JSON")

// scanner walks one JSON text without building values: enough to split an envelope into
// its top-level keys fast. It checks the grammar of what it skips (strings, numbers,
// literals, nesting) so that a body it accepts is valid JSON.
type scanner struct {
	b     []byte
	i     int
	depth int
}

const maxDepth = 512

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
	start := s.i
	end, escaped, err := stringEnd(s.b, start)
	if err != nil {
		return "", errSyntax
	}
	s.i = end + 1
	raw := s.b[start : end+1]
	if !escaped {
		for _, c := range raw {
			if c < 0x20 {
				return "", errSyntax
			}
		}
		return string(raw[1 : len(raw)-1]), nil
	}
	var out string
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", errSyntax
	}
	return out, nil
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
		if _, err := s.str(); err != nil {
			return nil, err
		}
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		s.depth++
		if s.depth > maxDepth {
			return nil, errors.New("JSON nested too deeply")
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
				if _, err := s.str(); err != nil {
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
	case c == '-' || (c >= '0' && c <= '9'):
		for s.i < len(s.b) && isNumByte(s.b[s.i]) {
			s.i++
		}
		if !json.Valid(s.b[start:s.i]) {
			return nil, errSyntax
		}
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
				s.i += len(lit)
				return s.b[start:s.i], nil
			}
		}
		return nil, errSyntax
	}
	return s.b[start:s.i], nil
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
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
	} else {
		for {
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != '"' {
				return errSyntax
			}
			key, err := s.str()
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
	s.ws()
	if s.i != len(s.b) {
		return errors.New("data after the JSON object")
	}
	return nil
}
