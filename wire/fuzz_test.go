package wire_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/at-technology/atqueue/wire"
)

// FuzzDecode: any body either decodes into an envelope that re-encodes to valid JSON and
// decodes to the same envelope, or fails with ErrMalformed/ErrTooLarge. It never panics.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"sender": "A", "reciever": "B", "message": {"type": "ping"}, "message_id": "1", "answer_to": null}`))
	f.Add([]byte(`{"sender":"A","reciever":"B","message":{"errors":["x",{"error_message":"m"}]},"message_id":"1","answer_to":"0"}`))
	f.Add([]byte(`{"sender": "\u0421", "reciever": "\ud83d\ude00", "message": {"a": [1, 2.5e3, -0, true, null]}, "message_id": "\"q\"", "answer_to": null}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"message": null}`))
	f.Add([]byte("{\"sender\": \"\xff\"}"))
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := wire.Decode(body, 1<<16)
		if err != nil {
			if !errors.Is(err, wire.ErrMalformed) && !errors.Is(err, wire.ErrTooLarge) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		out, err := env.Marshal()
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if !json.Valid(out) {
			t.Fatalf("re-encoded body is not JSON: %q", out)
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
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		if !bytes.Equal(ja, jb) {
			t.Fatalf("message changed: %s -> %s", ja, jb)
		}
	})
}

// decodeNumbers keeps numbers as written (1e700 is valid JSON but no float64).
func decodeNumbers(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}
