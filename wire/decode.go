package wire

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// What a call decodes is mostly small: arguments into a map[string]any, a result into an
// int or a string. decodeFast reads those with the scanner, giving what encoding/json
// gives, and says false for everything else (another target type, invalid JSON, Python's
// non-finite numbers, deep nesting, trailing data), which unmarshal then decodes the
// general way: results and errors stay encoding/json's.
func decodeFast(data []byte, v any, useNumber bool) bool {
	if mayHoldNonFinite(data) {
		return false
	}
	s := &scanner{b: data}
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	var (
		x       any
		n       int64
		ok      bool
		inPlace map[string]any // an empty map filled as it is read; emptied again on failure
	)
	switch p := v.(type) {
	case *map[string]any:
		if s.b[s.i] == '{' {
			m := *p
			if m != nil && len(m) == 0 {
				inPlace = m
			} else {
				m = map[string]any{}
			}
			x, ok = m, s.members(m, useNumber)
		}
	case *any:
		if *p == nil { // else encoding/json may decode into what it holds
			x, ok = s.value(useNumber)
		}
	case *string:
		if s.b[s.i] == '"' {
			x, ok = s.text()
		}
	case *int, *int64:
		n, ok = s.integer()
	case *bool:
		switch {
		case s.token("true"):
			x, ok = true, true
		case s.token("false"):
			x, ok = false, true
		}
	}
	if s.ws(); !ok || s.i != len(s.b) {
		clear(inPlace)
		return false
	}
	switch p := v.(type) {
	case *map[string]any:
		if m := x.(map[string]any); *p == nil || inPlace != nil {
			*p = m
		} else {
			for k, e := range x.(map[string]any) {
				(*p)[k] = e
			}
		}
	case *any:
		*p = x
	case *string:
		*p = x.(string)
	case *int:
		if int64(int(n)) != n {
			return false
		}
		*p = int(n)
	case *int64:
		*p = n
	case *bool:
		*p = x.(bool)
	}
	return true
}

// The decoders below return false for whatever they leave to encoding/json.

// value reads one value as encoding/json decodes it into an any.
func (s *scanner) value(useNumber bool) (any, bool) {
	s.ws()
	if s.i >= len(s.b) {
		return nil, false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		m := map[string]any{}
		return m, s.members(m, useNumber)
	case c == '[':
		s.depth++
		if s.depth > maxDepth {
			return nil, false
		}
		s.i++
		a := []any{}
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			s.depth--
			return a, true
		}
		for {
			e, ok := s.value(useNumber)
			if !ok {
				return nil, false
			}
			a = append(a, e)
			s.ws()
			if s.i >= len(s.b) {
				return nil, false
			}
			if s.b[s.i] == ',' {
				s.i++
				continue
			}
			if s.b[s.i] != ']' {
				return nil, false
			}
			s.i++
			s.depth--
			return a, true
		}
	case c == '"':
		return s.text()
	case c == '-' || c >= '0' && c <= '9':
		raw, err := s.skip()
		if err != nil {
			return nil, false
		}
		if useNumber {
			return json.Number(raw), true
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return nil, false
		}
		return f, true
	case s.token("true"):
		return true, true
	case s.token("false"):
		return false, true
	case s.token("null"):
		return nil, true
	}
	return nil, false
}

// members reads the members of the object at s.i into m; a repeated key's last value wins.
func (s *scanner) members(m map[string]any, useNumber bool) bool {
	s.depth++
	if s.depth > maxDepth {
		return false
	}
	s.i++ // '{'
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		s.depth--
		return true
	}
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return false
		}
		k, ok := s.text()
		if !ok || s.expect(':') != nil {
			return false
		}
		v, ok := s.value(useNumber)
		if !ok {
			return false
		}
		m[k.(string)] = v
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		if s.b[s.i] == ',' {
			s.i++
			continue
		}
		if s.b[s.i] != '}' {
			return false
		}
		s.i++
		s.depth--
		return true
	}
}

// text reads a string as encoding/json does: as written when it has no escape and is
// UTF-8, through encoding/json otherwise (escapes, and bytes it replaces by U+FFFD).
func (s *scanner) text() (any, bool) {
	raw, escaped, err := s.strRaw()
	if err != nil {
		return nil, false
	}
	body := raw[1 : len(raw)-1]
	if !escaped && utf8.Valid(body) {
		if k, ok := known(body); ok {
			return k, true
		}
		return string(body), true
	}
	var out string
	if json.Unmarshal(raw, &out) != nil {
		return nil, false
	}
	return out, true
}

// integer reads a JSON integer that fits an int64, as encoding/json decodes it into an
// int or int64.
func (s *scanner) integer() (int64, bool) {
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	if s.i == digits || s.b[digits] == '0' && s.i-digits > 1 {
		return 0, false
	}
	if s.i < len(s.b) && isNumByte(s.b[s.i]) { // a fraction or an exponent
		return 0, false
	}
	n, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64)
	return n, err == nil
}
