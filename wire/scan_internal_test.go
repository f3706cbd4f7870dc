package wire

import (
	"encoding/json"
	"math/bits"
	"strings"
	"testing"
)

// stringEndBytewise is stringEnd one byte at a time.
func stringEndBytewise(raw []byte, start int) (end int, escaped bool, err error) {
	for j := start + 1; j < len(raw); j++ {
		switch raw[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j, escaped, nil
		}
	}
	return 0, false, errSyntax
}

// strByUnmarshal is how the scanner read strings before it checked them itself: find the
// closing quote, then let encoding/json judge and decode.
func strByUnmarshal(b []byte, start int) (string, int, error) {
	end, escaped, err := stringEndBytewise(b, start)
	if err != nil {
		return "", start, errSyntax
	}
	raw := b[start : end+1]
	if !escaped {
		for _, c := range raw {
			if c < 0x20 {
				return "", end + 1, errSyntax
			}
		}
		return string(raw[1 : len(raw)-1]), end + 1, nil
	}
	var out string
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", end + 1, errSyntax
	}
	return out, end + 1, nil
}

// FuzzStrRaw: the scanner accepts exactly the strings encoding/json accepts, decodes them
// alike, and stops at the same byte (error texts name it), for values and for keys.
func FuzzStrRaw(f *testing.F) {
	for _, s := range []string{`"abc"`, `"a\"b"`, `"\u00e9\n"`, `"\ud83d\ude00"`, `"\u12"`, `"\x"`, "\"a\tb\"", `"\u00zz"`,
		`"unterminated`, `"\"`, `"sender"`, `"exec_method"`, "\"\xff\"", `"\/\b\f\r\t\\"`, `"\u0041BC"x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != '"' {
			return
		}
		end, esc, err := stringEnd(b, 0)
		wantEnd, wantEsc, wantEndErr := stringEndBytewise(b, 0)
		if end != wantEnd || esc != wantEsc || (err != nil) != (wantEndErr != nil) {
			t.Fatalf("%q: stringEnd %d %v %v, want %d %v %v", b, end, esc, err, wantEnd, wantEsc, wantEndErr)
		}
		want, wantI, wantErr := strByUnmarshal(b, 0)
		for _, read := range []func(*scanner) (string, error){(*scanner).str, (*scanner).name} {
			s := &scanner{b: b}
			got, err := read(s)
			if (err != nil) != (wantErr != nil) || s.i != wantI || err == nil && got != want {
				t.Fatalf("%q: got %q at %d (%v), want %q at %d (%v)", b, got, s.i, err, want, wantI, wantErr)
			}
		}
		s := &scanner{b: b}
		_, _, err = s.strRaw()
		if (err != nil) != (wantErr != nil) || s.i != wantI {
			t.Fatalf("%q: strRaw stops at %d (%v), want %d (%v)", b, s.i, err, wantI, wantErr)
		}
	})
}

// FuzzValidNumber: validNumber judges a run of number bytes as json.Valid does.
func FuzzValidNumber(f *testing.F) {
	for _, s := range []string{"0", "-0", "01", "1.", "1.5", "-1e5", "1E+05", "1e", "--1", "+1", "1.5e-3", ".5", "123456789012345678901234567890"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, c := range b {
			if !isNumByte(c) {
				return
			}
		}
		if got, want := validNumber(b), json.Valid(b); got != want {
			t.Fatalf("%q: validNumber %v, json.Valid %v", b, got, want)
		}
	})
}

// FuzzSpecial: the lowest byte special marks is the first quote, backslash or control
// byte of the word, and it marks none when there is none.
func FuzzSpecial(f *testing.F) {
	f.Add(uint64(0x4142434445464748))
	f.Add(uint64(0x22005c1f20ff7f80))
	f.Fuzz(func(t *testing.T, w uint64) {
		first := -1
		for i := range 8 {
			if c := byte(w >> (8 * i)); c < 0x20 || c == '"' || c == '\\' {
				first = i
				break
			}
		}
		m := special(w)
		switch {
		case first < 0 && m != 0:
			t.Fatalf("%#x: marks %#x, but has no special byte", w, m)
		case first >= 0 && (m == 0 || bits.TrailingZeros64(m)/8 != first):
			t.Fatalf("%#x: marks %#x, the first special byte is %d", w, m, first)
		}
	})
}

// TestStringScanAtEveryOffset puts a quote, a backslash or a control byte at each place
// of strings up to 40 bytes long, so that the eight-byte steps meet them at every offset.
func TestStringScanAtEveryOffset(t *testing.T) {
	for n := range 41 {
		for pos := range n {
			for _, c := range []byte{'"', '\\', 0x01, 0x1f, 0xe9} {
				b := []byte(`"` + strings.Repeat("x", n) + `"tail"`)
				b[1+pos] = c
				end, esc, err := stringEnd(b, 0)
				wantEnd, wantEsc, wantErr := stringEndBytewise(b, 0)
				if end != wantEnd || esc != wantEsc || (err != nil) != (wantErr != nil) {
					t.Fatalf("%q: stringEnd %d %v %v, want %d %v %v", b, end, esc, err, wantEnd, wantEsc, wantErr)
				}
				want, wantI, wantErr := strByUnmarshal(b, 0)
				s := &scanner{b: b}
				got, err := s.str()
				if (err != nil) != (wantErr != nil) || s.i != wantI || err == nil && got != want {
					t.Fatalf("%q: got %q at %d (%v), want %q at %d (%v)", b, got, s.i, err, want, wantI, wantErr)
				}
			}
		}
	}
}
