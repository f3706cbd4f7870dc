package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// refReformat is how Reformat wrote Python's form before it copied runs of bytes: byte
// by byte into a bytes.Buffer.
func refReformat(raw []byte) ([]byte, error) {
	var b bytes.Buffer
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch c {
		case ' ', '\t', '\n', '\r':
		case ',':
			b.WriteString(", ")
		case ':':
			b.WriteString(": ")
		case '"':
			end, escaped, err := stringEnd(raw, i)
			if err != nil {
				return nil, err
			}
			if !escaped {
				b.Write(raw[i : end+1])
			} else {
				var s string
				if err := json.Unmarshal(raw[i:end+1], &s); err != nil {
					return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
				}
				appendPyString(&b, s)
			}
			i = end
		default:
			b.WriteByte(c)
		}
	}
	return b.Bytes(), nil
}

// FuzzReformat: Reformat writes what it always wrote, errors included, for any text.
func FuzzReformat(f *testing.F) {
	f.Add([]byte(`{"a":1,"b" : [true, "x:y,z"], "c\u00e9\n": {"d":null}}`))
	f.Add([]byte("{\"a\":\"\\ud800\"}\t\r\n"))
	f.Add([]byte(`"unterminated`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got, err := Reformat(raw)
		want, werr := refReformat(raw)
		if fmt.Sprint(err) != fmt.Sprint(werr) || err == nil && !bytes.Equal(got, want) {
			t.Fatalf("%q:\ngot  %q (%v)\nwant %q (%v)", raw, got, err, want, werr)
		}
	})
}
