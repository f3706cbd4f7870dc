package wire

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Message types of spec §5–§7.
const (
	TypeRegister        = "register"
	TypeUnregister      = "unregister" // Go extension: a component leaving on purpose
	TypeDirectory       = "directory"  // Go extension: the registry's view of every component
	TypeWatch           = "watch"      // Go extension: a stream of the calls the registry routes
	TypeCall            = "call"       // Go extension: one event of that stream
	TypeCalls           = "calls"      // Go extension: a caller's report of the direct calls it made
	TypeInspect         = "inspect"
	TypeInspectAll      = "inspect_all"
	TypeCheckRegistered = "check_registered"
	TypePing            = "ping"
	TypeCheckConfigured = "check_configured"
	TypeConfigurate     = "configurate"
	TypeExecMethod      = "exec_method"
	TypeMethodResult    = "method_result"
)

// MethodResult is the message of a method's answer, {"type": "method_result", "result":
// Result}: an Object of two fields, in one allocation where an Object takes two.
type MethodResult struct{ Result any }

// MarshalJSON writes it as the Object it stands for.
func (r MethodResult) MarshalJSON() ([]byte, error) { return r.object().MarshalJSON() }

func (r MethodResult) object() Object {
	return Object{{Key: "type", Value: TypeMethodResult}, {Key: "result", Value: r.Result}}
}

// UnregisterMessage is the message of a Go component that leaves the registry (a Go
// extension), sent with its InstanceHeader.
func UnregisterMessage() json.RawMessage { return json.RawMessage(`{"type": "unregister"}`) }

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

// UnmarshalJSON accepts a string or an object (which may hold Python's NaN and Infinity,
// e.g. in the request it echoes).
func (e *ErrorItem) UnmarshalJSON(b []byte) error {
	e.Raw = append(json.RawMessage(nil), b...)
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &e.Text)
	}
	var msg, typ, arg []byte
	if splitObject(b, func(k string, v []byte) {
		switch k {
		case "error_message":
			msg = v
		case "error_type":
			typ = v
		case "argument":
			arg = v
		}
	}) != nil {
		// Neither string nor object: keep it readable rather than fail the whole answer.
		e.Text = string(b)
		return nil
	}
	e.Text = looseString(msg)
	e.Type = looseString(typ)
	e.Argument = looseString(arg)
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
	if s, ok := StringValue(v); ok && utf8.ValidString(s) {
		return s
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

// DecodeAnswer reads the fields every answer may carry. Result stays as written, Python's
// NaN and Infinity included (Unmarshal reads them).
func DecodeAnswer(message json.RawMessage) (Answer, error) {
	var typ, result, errs []byte
	if err := splitObject(message, func(k string, v []byte) {
		switch k {
		case "type":
			typ = v
		case "result":
			result = v
		case "errors":
			errs = v
		}
	}); err != nil {
		return Answer{Raw: message}, fmt.Errorf("%w: answer: %v", ErrMalformed, err)
	}
	out := Answer{Type: looseString(typ), Result: result, Raw: message}
	if len(errs) > 0 {
		out.HasErrors = true
		if errs[0] == '[' {
			var items []ErrorItem
			err := splitArray(errs, func(raw []byte) {
				var it ErrorItem
				_ = it.UnmarshalJSON(raw)
				items = append(items, it)
			})
			out.Errors = items
			if err != nil {
				out.Errors = []ErrorItem{{Text: string(errs)}}
			}
		} else if string(errs) != "null" {
			out.Errors = []ErrorItem{{Text: looseString(errs)}}
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

// Issue is one entry of a pydantic error list, the error_message of a
// MethodArgumentSchemaException (pydantic v1 and v2 both write loc, msg and type).
type Issue struct {
	Loc  []any  `json:"loc"` // argument name first, then keys (strings) and indexes (numbers)
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

// Issues reads the pydantic error list of an exception entry; nil when its error_message
// is not one.
func (e ErrorItem) Issues() []Issue {
	if e.Type == "" {
		return nil
	}
	var issues []Issue
	if Unmarshal([]byte(e.Text), &issues) != nil {
		return nil
	}
	return issues
}

// Fields names the arguments that failed, in order and once each, from the locations of
// the entry's pydantic issues. Argument cannot tell: like Python, a component puts the
// method's first input there whatever failed (spec quirk 10).
func (e ErrorItem) Fields() []string {
	var out []string
	for _, is := range e.Issues() {
		if len(is.Loc) == 0 {
			continue
		}
		if f := fmt.Sprint(is.Loc[0]); !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// Summary renders the entry in one line for people: a pydantic error list (the
// error_message of MethodArgumentSchemaException) becomes "b: value is not a valid integer".
func (e ErrorItem) Summary() string {
	if issues := e.Issues(); len(issues) > 0 {
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
	// Direct is true for a component that takes requests straight on its recieve- queue
	// and answers a caller that asks for it on the caller's (see DirectHeader).
	Direct bool `json:"direct"`
}

// DirectoryChange is every answer after the first to a directory request with "watch":
// the entries that changed (registered, registered again, found dead, alive again) and
// the names that left the directory.
type DirectoryChange struct {
	Changed []DirectoryEntry `json:"changed"`
	Removed []string         `json:"removed"`
	// Report says whether the registry wants the calls made directly reported (it has
	// metrics or watchers); the first answer carries it beside "result" too.
	Report bool `json:"report"`
}

// DirectoryWatch is the message of a directory request that also subscribes the sender
// to the changes: {"type": "directory", "watch": true}. Renew, the message id of a
// subscription made before, asks the registry to keep that subscription; a registry that
// does not know it (it restarted) subscribes it again and answers it with the whole
// directory. A renewal itself is not answered.
type DirectoryWatch struct {
	Type  string `json:"type"` // TypeDirectory
	Watch bool   `json:"watch"`
	Renew string `json:"renew,omitempty"`
}

// CallsReport is what a caller tells the registry about the calls it made directly to
// Go peers, which the registry did not route: {"type": "calls", "calls": [event, ...]}.
// The registry counts them and tells its watchers as if it had routed them; it does not
// answer.
type CallsReport struct {
	Type  string      `json:"type"` // TypeCalls
	Calls []CallEvent `json:"calls"`
}

// CallEvent is one call the registry saw end (a Go extension: the stream a "watch" request
// to the registry opens, and the registry's in-process watchers get): who called whom,
// what, how it ended and how long it took from the request passing the registry to its
// answer passing it (0 when the registry answered itself).
type CallEvent struct {
	Type      string  `json:"type"` // TypeCall
	At        string  `json:"at"`   // RFC 3339, when the answer passed
	From      string  `json:"from"`
	To        string  `json:"to"`
	Method    string  `json:"method"` // the method, or the message type of a built-in
	MessageID string  `json:"message_id"`
	Outcome   string  `json:"outcome"`         // "ok", or the Kind of the error
	Error     string  `json:"error,omitempty"` // the error in one line
	Ms        float64 `json:"ms"`
	// Direct marks a call made straight to its receiver and reported by its caller; Ms is
	// then the caller's time from request to answer.
	Direct bool `json:"direct,omitempty"`
}
