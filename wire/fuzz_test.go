package wire_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/at-technology/atqueue/wire"
)

// FuzzDecode: any body either decodes into an envelope that re-encodes to JSON as Python
// reads it (NaN, Infinity and -Infinity allowed) and decodes to the same envelope, or
// fails with ErrMalformed/ErrTooLarge. It never panics. Seeds beyond these are in
// testdata/fuzz/FuzzDecode (golden bodies, Python's non-finite numbers, deep nesting,
// trailing data).
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"sender": "A", "reciever": "B", "message": {"type": "ping"}, "message_id": "1", "answer_to": null}`))
	f.Add([]byte(`{"sender":"A","reciever":"B","message":{"errors":["x",{"error_message":"m"}]},"message_id":"1","answer_to":"0"}`))
	f.Add([]byte(`{"sender": "\u0421", "reciever": "\ud83d\ude00", "message": {"a": [1, 2.5e3, -0, true, null]}, "message_id": "\"q\"", "answer_to": null}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"message": null}`))
	f.Add([]byte("{\"sender\": \"\xff\"}"))
	f.Add([]byte(`{"sender": "A", "reciever": "B", "message": {"x": [NaN, Infinity, -Infinity, 1e400, -1e400, "NaN"]}, "message_id": "1", "answer_to": null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := wire.Decode(body, 1<<16)
		if err != nil {
			if !errors.Is(err, wire.ErrMalformed) && !errors.Is(err, wire.ErrTooLarge) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		var whole any
		if err := wire.UnmarshalNumbers(body, &whole); err != nil {
			t.Fatalf("accepted a body Unmarshal refuses: %q: %v", body, err)
		}
		out, err := env.Marshal()
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if err := wire.UnmarshalNumbers(out, &whole); err != nil {
			t.Fatalf("re-encoded body is not JSON as Python reads it: %q: %v", out, err)
		}
		again, err := wire.Decode(out, 1<<17)
		if err != nil {
			t.Fatalf("re-decode %q: %v", out, err)
		}
		if again.Sender != env.Sender || again.Reciever != env.Reciever || again.MessageID != env.MessageID || again.AnswerTo != env.AnswerTo {
			t.Fatalf("round trip changed the envelope: %+v -> %+v", env, again)
		}
		a, errA := decodeNumbers(env.Message)
		b, errB := decodeNumbers(again.Message)
		if errA != nil || errB != nil {
			t.Fatalf("message not decodable: %v %v", errA, errB)
		}
		if !bytes.Equal(a, b) {
			t.Fatalf("message changed: %s -> %s", a, b)
		}
		// What Unmarshal reads, Compact writes back so that it reads the same.
		c, err := decodeNumbers(a)
		if err != nil || !bytes.Equal(a, c) {
			t.Fatalf("Compact/Unmarshal round trip: %s -> %s (%v)", a, c, err)
		}
	})
}

// decodeNumbers reads raw as Python does (numbers kept as written, 1e700 is inf) and
// writes it back compact: two texts that mean the same give the same bytes.
func decodeNumbers(raw []byte) ([]byte, error) {
	var v any
	if err := wire.UnmarshalNumbers(raw, &v); err != nil {
		return nil, err
	}
	return wire.Compact(v)
}
