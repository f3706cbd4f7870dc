package schema

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// obj is a JSON object that keeps its keys in insertion order.
type obj []kv

type kv struct {
	k string
	v any
}

func (o obj) with(k string, v any) obj { return append(o, kv{k, v}) }

// compact encodes v as compact JSON. v is built from obj, []any, []string, string, bool,
// int and json.RawMessage only.
func compact(v any) json.RawMessage {
	var b bytes.Buffer
	writeJSON(&b, v)
	return b.Bytes()
}

func writeJSON(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case obj:
		b.WriteByte('{')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, e.k)
			b.WriteByte(':')
			writeJSON(b, e.v)
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	case string:
		writeJSONString(b, v)
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case int:
		b.WriteString(strconv.Itoa(v))
	case json.RawMessage:
		b.Write(v)
	default:
		b.WriteString("null")
	}
}

// writeJSONString writes s without Go's HTML escaping, as Python would.
func writeJSONString(b *bytes.Buffer, s string) {
	raw, _ := marshalNoHTML(s)
	b.Write(raw)
}

// marshalNoHTML is json.Marshal without the \u003c-style HTML escaping.
func marshalNoHTML(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
