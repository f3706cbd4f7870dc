package wire

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Message types of spec §5–§7.
const (
	TypeRegister        = "register"
	TypeUnregister      = "unregister" // Go extension: a component leaving on purpose
	TypeDirectory       = "directory"  // Go extension: the registry's view of every component
	TypeInspect         = "inspect"
	TypeInspectAll      = "inspect_all"
	TypeCheckRegistered = "check_registered"
	TypePing            = "ping"
	TypeCheckConfigured = "check_configured"
	TypeConfigurate     = "configurate"
	TypeExecMethod      = "exec_method"
	TypeMethodResult    = "method_result"
)

// ErrorItem is one entry of an answer's "errors" list, which mixes exception dicts and
// plain strings (spec §9). For a string entry only Text is set; for an object, Type and
// Text come from error_type and error_message and Raw keeps the whole object.
type ErrorItem struct {
	Type     string
	Text     string
	Argument string
	Raw      json.RawMessage
}

// String renders the entry for people.
func (e ErrorItem) String() string {
	if e.Type == "" {
		return e.Text
	}
	return e.Type + ": " + e.Text
}

// UnmarshalJSON accepts a string or an object.
func (e *ErrorItem) UnmarshalJSON(b []byte) error {
	e.Raw = append(json.RawMessage(nil), b...)
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &e.Text)
	}
	var o struct {
		Message  json.RawMessage `json:"error_message"`
		Type     json.RawMessage `json:"error_type"`
		Argument json.RawMessage `json:"argument"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		// Neither string nor object: keep it readable rather than fail the whole answer.
		e.Text = string(b)
		return nil
	}
	e.Text = looseString(o.Message)
	e.Type = looseString(o.Type)
	e.Argument = looseString(o.Argument)
	return nil
}

// MarshalJSON writes Raw when present (an object received earlier), else the plain text.
func (e ErrorItem) MarshalJSON() ([]byte, error) {
	if len(e.Raw) > 0 {
		return e.Raw, nil
	}
	return json.Marshal(e.Text)
}

func looseString(v json.RawMessage) string {
	if len(v) == 0 || string(v) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

// Answer is the decoded message of an answer envelope.
type Answer struct {
	Type      string          // "method_result" for exec_method results, "" otherwise
	Result    json.RawMessage // nil when absent
	Errors    []ErrorItem
	HasErrors bool // the "errors" key is present (Python treats its presence as failure)
	Raw       json.RawMessage
}

// DecodeAnswer reads the fields every answer may carry.
func DecodeAnswer(message json.RawMessage) (Answer, error) {
	var a struct {
		Type   json.RawMessage `json:"type"`
		Result json.RawMessage `json:"result"`
		Errors json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(message, &a); err != nil {
		return Answer{Raw: message}, fmt.Errorf("%w: answer: %v", ErrMalformed, err)
	}
	out := Answer{Type: looseString(a.Type), Result: a.Result, Raw: message}
	if len(a.Errors) > 0 {
		out.HasErrors = true
		if a.Errors[0] == '[' {
			if err := json.Unmarshal(a.Errors, &out.Errors); err != nil {
				out.Errors = []ErrorItem{{Text: string(a.Errors)}}
			}
		} else if string(a.Errors) != "null" {
			out.Errors = []ErrorItem{{Text: looseString(a.Errors)}}
		}
	}
	return out, nil
}

// ErrorTexts joins the entries for people.
func ErrorTexts(items []ErrorItem) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = it.String()
	}
	return strings.Join(parts, "; ")
}

// Exception builds the exception dict of spec §9 with the keys every component error
// carries, in Python's order; extra fields (method, argument) follow.
func Exception(text, typ, session, component, messageID string, message any, extra ...Field) Object {
	o := Object{
		{"error_message", text},
		{"error_type", typ},
		{"session", session},
		{"component", component},
		{"message_id", messageID},
		{"message", message},
	}
	return append(o, extra...)
}

// ErrorsMessage is the {"errors": [...]} payload of a failure answer.
func ErrorsMessage(items ...any) Object {
	if items == nil {
		items = []any{}
	}
	return Object{{"errors", items}}
}

// Summary renders the entry in one line for people: a pydantic error list (the
// error_message of MethodArgumentSchemaException) becomes "b: value is not a valid integer".
func (e ErrorItem) Summary() string {
	var issues []struct {
		Loc []any  `json:"loc"`
		Msg string `json:"msg"`
	}
	if e.Type != "" && json.Unmarshal([]byte(e.Text), &issues) == nil && len(issues) > 0 {
		parts := make([]string, 0, len(issues))
		for _, is := range issues {
			loc := make([]string, len(is.Loc))
			for i, l := range is.Loc {
				loc[i] = fmt.Sprint(l)
			}
			parts = append(parts, strings.Join(loc, ".")+": "+is.Msg)
		}
		return strings.Join(parts, "; ")
	}
	return e.String()
}

// DirectoryEntry is one component in the answer to a "directory" request (a Go
// extension; Python peers never send it): what the registry knows beyond inspect_all.
// The answer is {"result": [entry, ...]} in registration order.
type DirectoryEntry struct {
	Name      string `json:"name"`
	SessionID string `json:"session_id"`
	// Alive is false once the registry found the component's queue without a consumer
	// for longer than its dead-after (or the start grace after registering).
	Alive bool `json:"alive"`
	// Consumers is the consumer count of its recieve- queue at the last check, -1 before
	// the first.
	Consumers    int    `json:"consumers"`
	Methods      int    `json:"methods"`
	RegisteredAt string `json:"registered_at"` // RFC 3339, when it registered (or was restored)
	LastAlive    string `json:"last_alive"`    // RFC 3339, when its queue last had a consumer
	Go           bool   `json:"go"`            // registered by a Go component (it sent its instance)
}
