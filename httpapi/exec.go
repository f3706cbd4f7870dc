package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/wire"
)

// execRequest is the body of POST /api/exec_method, Python's pydantic model
// ExecMetod(component: str, method: str, kwargs: dict, auth_token: Optional[str]).
type execRequest struct {
	component string
	method    string
	kwargs    json.RawMessage // a JSON object
	token     *string         // nil: no auth_token header
}

// issue is one entry of a 422 answer, in pydantic v1's shape.
type issue struct {
	Loc  []any  `json:"loc"`
	Msg  string `json:"msg"`
	Type string `json:"type"`
}

// parseExec reads the body as FastAPI validates it; the issues are nil when it is valid.
// Unknown fields are ignored; numbers and booleans given for a string are turned into
// text as pydantic v1 does.
func parseExec(body []byte) (execRequest, []issue) {
	var req execRequest
	if len(bytes.TrimSpace(body)) == 0 {
		return req, []issue{{Loc: []any{"body"}, Msg: "field required", Type: "value_error.missing"}}
	}
	if err := json.Unmarshal(body, new(json.RawMessage)); err != nil {
		return req, []issue{jsonIssue(body, err)}
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) != nil || fields == nil {
		return req, []issue{{Loc: []any{"body"}, Msg: "value is not a valid dict", Type: "type_error.dict"}}
	}
	var issues []issue
	str := func(name string, optional bool) *string {
		raw, ok := fields[name]
		switch {
		case !ok && optional, optional && string(raw) == "null":
			return nil
		case !ok:
			issues = append(issues, issue{Loc: []any{"body", name}, Msg: "field required", Type: "value_error.missing"})
		case string(raw) == "null":
			issues = append(issues, issue{Loc: []any{"body", name}, Msg: "none is not an allowed value", Type: "type_error.none.not_allowed"})
		default:
			if s, ok := pydanticStr(raw); ok {
				return &s
			}
			issues = append(issues, issue{Loc: []any{"body", name}, Msg: "str type expected", Type: "type_error.str"})
		}
		return nil
	}
	if s := str("component", false); s != nil {
		req.component = *s
	}
	if s := str("method", false); s != nil {
		req.method = *s
	}
	switch raw, ok := fields["kwargs"]; {
	case !ok:
		issues = append(issues, issue{Loc: []any{"body", "kwargs"}, Msg: "field required", Type: "value_error.missing"})
	case string(raw) == "null":
		issues = append(issues, issue{Loc: []any{"body", "kwargs"}, Msg: "none is not an allowed value", Type: "type_error.none.not_allowed"})
	case raw[0] != '{':
		issues = append(issues, issue{Loc: []any{"body", "kwargs"}, Msg: "value is not a valid dict", Type: "type_error.dict"})
	default:
		req.kwargs = raw
	}
	req.token = str("auth_token", true)
	return req, issues
}

// pydanticStr is pydantic v1's str validator: a string, or the text of a number or a
// boolean (str(5) is "5", str(True) is "True").
func pydanticStr(raw json.RawMessage) (string, bool) {
	switch raw[0] {
	case '"':
		var s string
		return s, json.Unmarshal(raw, &s) == nil
	case 't':
		return "True", true
	case 'f':
		return "False", true
	case '{', '[', 'n':
		return "", false
	}
	return pyNumber(string(raw)), true
}

// jsonIssue is the 422 entry of a body that is not JSON, shaped as FastAPI's: the
// place of the error in loc and in the message, counted as Python's json module does.
func jsonIssue(body []byte, err error) issue {
	pos, text := int64(len(body)), "unexpected end of JSON input"
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		text = syn.Error()
		if !strings.HasPrefix(text, "unexpected end") && syn.Offset > 0 {
			pos = syn.Offset - 1 // the decoder has read the byte it stopped at
		}
	}
	line, col := 1, 1
	for _, c := range body[:pos] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	text = strings.ToUpper(text[:1]) + text[1:]
	return issue{Loc: []any{"body", pos}, Msg: fmt.Sprintf("%s: line %d column %d (char %d)", text, line, col, pos), Type: "value_error.jsondecode"}
}

// execMethod answers POST /api/exec_method: it calls the method and answers
// {"result": ...}, or 500 with the ExternalMethodException of an "errors" answer.
func (a *API) execMethod(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, a.opts.maxBody)
	if !ok {
		return
	}
	req, issues := parseExec(body)
	if issues != nil {
		detail, _ := wire.Compact(wire.Object{{Key: "detail", Value: issues}})
		writeJSON(w, http.StatusUnprocessableEntity, detail)
		return
	}
	target := req.component + "." + req.method
	var opts []component.CallOption
	if req.token != nil {
		opts = append(opts, component.WithToken(*req.token))
	}
	msg := wire.Object{{Key: "type", Value: wire.TypeExecMethod}, {Key: "method", Value: req.method}, {Key: "args", Value: req.kwargs}}
	ctx, cancel := context.WithTimeout(r.Context(), a.opts.callTimeout)
	defer cancel()
	rep, err := a.c.Request(ctx, req.component, msg, opts...)
	if err != nil {
		a.failed(w, r, req.component, "method "+req.method, err)
		return
	}
	var payload bytes.Buffer
	if err := fastAPI.encode(&payload, rep.Raw); err != nil {
		a.failed(w, r, req.component, "method "+req.method, fmt.Errorf("%w: %v", component.ErrBadAnswer, err))
		return
	}
	if rep.HasErrors {
		var fields map[string]json.RawMessage
		_ = json.Unmarshal(rep.Raw, &fields) // DecodeAnswer has read it as an object
		errs, err := indent4.text(fields["errors"])
		if err != nil {
			errs = string(fields["errors"])
		}
		text := "Got errors while executing external method " + target + ":\n\n" + errs
		a.opts.log.Debug("debug HTTP API call answered with errors", "call", target, "errors", wire.ErrorTexts(rep.Errors))
		writeJSON(w, http.StatusInternalServerError, a.exception(text, ExternalMethodException, payload.Bytes()))
		return
	}
	if rep.Type != wire.TypeMethodResult {
		a.opts.log.Warn("the answer to exec_method is not a method_result", "call", target, "type", rep.Type)
	}
	result := []byte("null")
	if len(rep.Result) > 0 {
		var b bytes.Buffer
		if err := fastAPI.encode(&b, rep.Result); err == nil {
			result = b.Bytes()
		}
	}
	writeJSON(w, http.StatusOK, append(append([]byte(`{"result":`), result...), '}'))
}
