package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// DefaultMaxBody is the body size limit used when none is configured: 16 MiB.
const DefaultMaxBody = 16 << 20

// Envelope is the five-key message body of spec §4. Message is always a JSON object.
// AnswerTo is "" on requests (written as null) and the request's MessageID on answers.
type Envelope struct {
	Sender    string
	Reciever  string
	Message   json.RawMessage
	MessageID string
	AnswerTo  string
}

// IsAnswer tells whether the envelope answers a request.
func (e *Envelope) IsAnswer() bool { return e.AnswerTo != "" }

// Marshal writes the envelope in Python's byte form, keys in wire order, with an explicit
// "answer_to": null on requests. Message is re-formatted, not re-ordered.
func (e *Envelope) Marshal() ([]byte, error) {
	msg := bytes.TrimSpace(e.Message)
	if len(msg) == 0 || msg[0] != '{' {
		return nil, fmt.Errorf("%w: message must be a JSON object", ErrMalformed)
	}
	// Room for the message in Python's form (a space after each ',' and ':') and the rest.
	b := make([]byte, 0, len(msg)+len(msg)/4+len(e.Sender)+len(e.Reciever)+len(e.MessageID)+len(e.AnswerTo)+80)
	b = append(b, `{"sender": `...)
	b = appendPyStringTo(b, e.Sender)
	b = append(b, `, "reciever": `...)
	b = appendPyStringTo(b, e.Reciever)
	b = append(b, `, "message": `...)
	b, err := appendReformat(b, msg)
	if err != nil {
		return nil, err
	}
	b = append(b, `, "message_id": `...)
	b = appendPyStringTo(b, e.MessageID)
	b = append(b, `, "answer_to": `...)
	if e.AnswerTo == "" {
		b = append(b, "null"...)
	} else {
		b = appendPyStringTo(b, e.AnswerTo)
	}
	return append(b, '}'), nil
}

// MarshalWith is Marshal with msg, encoded as Compact encodes it, as the message. The
// encoded message lives only in a scratch buffer: for a message encoded just to be sent.
func (e Envelope) MarshalWith(msg any) ([]byte, error) {
	s := scratches.Get().(*scratch)
	defer putScratch(s)
	out, err := AppendCompact(s.buf[:0], msg)
	s.buf = out[:0]
	if err != nil {
		return nil, err
	}
	e.Message = out
	return e.Marshal()
}

// rawEnvelope keeps every key raw so that wrong types are reported, not coerced.
type rawEnvelope struct {
	Sender, Reciever, Message, MessageID, AnswerTo []byte
}

// Decode parses a body into an envelope. The body is JSON as Python's json module reads
// it: NaN, Infinity and -Infinity may stand for numbers, and stay in Message as written.
// A body over maxBody bytes (maxBody <= 0 means DefaultMaxBody) fails with ErrTooLarge;
// anything that is not a five-key envelope of the right types fails with ErrMalformed
// (invalid JSON, nested deeper than 512 levels, followed by other data...). On failure
// the returned envelope still carries whatever Sender, MessageID and AnswerTo could be
// read, so that the sender of a request can be answered.
func Decode(body []byte, maxBody int) (Envelope, error) {
	var env Envelope
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	if len(body) > maxBody {
		env.Sender, env.MessageID, env.AnswerTo = sniffHeader(body)
		return env, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(body), maxBody)
	}
	var raw rawEnvelope
	err := splitObject(body, func(key string, v []byte) {
		switch key {
		case "sender":
			raw.Sender = v
		case "reciever":
			raw.Reciever = v
		case "message":
			raw.Message = v
		case "message_id":
			raw.MessageID = v
		case "answer_to":
			raw.AnswerTo = v
		}
	})
	if err != nil {
		env.Sender, env.MessageID, env.AnswerTo = sniffHeader(body)
		return env, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var problems []string
	// The plain strings (all of them, but for escapes) are copied out of the body in one
	// allocation that they share.
	var plain [4]struct {
		dst  *string
		text []byte
	}
	nplain := 0
	str := func(key string, v []byte, dst *string, nullable bool) {
		switch {
		case len(v) == 0:
			if !nullable {
				problems = append(problems, fmt.Sprintf("%q is missing", key))
			}
		case string(v) == "null":
			if !nullable {
				problems = append(problems, fmt.Sprintf("%q is null", key))
			}
		case v[0] != '"':
			problems = append(problems, fmt.Sprintf("%q must be a string", key))
		default:
			sc := scanner{b: v}
			q, escaped, err := sc.strRaw()
			switch {
			case err != nil:
				problems = append(problems, fmt.Sprintf("%q: %v", key, err))
			case escaped:
				*dst, _ = StringValue(q)
			default:
				plain[nplain].dst, plain[nplain].text = dst, q[1:len(q)-1]
				nplain++
			}
		}
	}
	str("sender", raw.Sender, &env.Sender, false)
	str("message_id", raw.MessageID, &env.MessageID, false)
	str("reciever", raw.Reciever, &env.Reciever, false)
	str("answer_to", raw.AnswerTo, &env.AnswerTo, true)
	var buf [160]byte
	joined := buf[:0]
	for _, p := range plain[:nplain] {
		joined = append(joined, p.text...)
	}
	all := string(joined)
	for _, p := range plain[:nplain] {
		*p.dst, all = all[:len(p.text)], all[len(p.text):]
	}
	switch {
	case len(raw.Message) == 0:
		problems = append(problems, `"message" is missing`)
	case raw.Message[0] != '{':
		problems = append(problems, `"message" must be a JSON object`)
	default:
		env.Message = raw.Message
	}
	if len(problems) > 0 {
		return env, fmt.Errorf("%w: %s", ErrMalformed, joinProblems(problems))
	}
	return env, nil
}

func joinProblems(p []string) string {
	var b bytes.Buffer
	for i, s := range p {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(s)
	}
	return b.String()
}

// sniffHeader reads sender, message_id and answer_to of a refused body, so that its
// sender can be told: the string values of the top-level keys of the object the body
// begins with, up to the first thing that cannot be read. Other values are passed over by
// counting brackets, so a key after a part nested too deeply is still found. A linear
// scan that builds nothing but the three strings.
func sniffHeader(body []byte) (sender, id, answerTo string) {
	s := &scanner{b: body}
	if s.expect('{') != nil {
		return
	}
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return
		}
		key, err := s.name()
		if err != nil || s.expect(':') != nil {
			return
		}
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == '"' {
			v, err := s.str()
			if err != nil {
				return
			}
			if utf8.ValidString(v) {
				switch key {
				case "sender":
					sender = v
				case "message_id":
					id = v
				case "answer_to":
					answerTo = v
				}
			}
		} else if !s.skipLoose() {
			return
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ',' {
			return
		}
		s.i++
	}
}

// Fields calls f with each top-level key of the JSON object raw and its raw value, in
// order, without building values; an error when raw is not a valid JSON object.
func Fields(raw []byte, f func(key string, value []byte)) error {
	return splitObject(raw, f)
}

// StringValue decodes a raw JSON string value; ok is false for anything else.
func StringValue(raw []byte) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	sc := scanner{b: raw}
	s, err := sc.name()
	return s, err == nil
}

// PeekType returns message.type when it is a string, "" otherwise.
func PeekType(message json.RawMessage) string {
	var typ string
	if splitObject(message, func(k string, v []byte) {
		if k == "type" {
			typ, _ = StringValue(v)
		}
	}) != nil {
		return ""
	}
	return typ
}
