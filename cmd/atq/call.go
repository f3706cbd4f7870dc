package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/internal/cli"
	"github.com/at-technology/atqueue/wire"
)

const callUsage = `usage: atq call NAME METHOD [key=value ...] [options]

Calls METHOD of the component NAME and prints its result: a string as it is, anything
else as indented JSON (--json: the result as one line of JSON). A failure is printed on
stderr in one line, e.g.

  atq: IntSummator.int_sum: invalid arguments: b: value is not a valid integer

and with --json also on stdout as the error objects the component answered,
{"errors": [...]}. The exit status says what failed (see below).

arguments:
  key=value                      one argument; the value is read as JSON where it is
                                 JSON (a=5, ok=true, tags=["x","y"], p={"x":1},
                                 none=null) and as a string otherwise (name=Ada); quote
                                 a string that looks like JSON: id='"42"'
  --args JSON                    the arguments as one JSON object; key=value arguments
                                 are added to it, and win over the same key
  --token TOKEN                  send TOKEN as the auth_token header (methods that need
                                 authorization)

options:
`

func callVerb() verb {
	var args wire.Object
	return verb{
		name: "call", usage: callUsage, withToken: true, withArgs: true,
		positional: func(o *verbOptions, pos []string, _ bool) error {
			if len(pos) < 2 {
				return cli.Usagef("call needs the NAME of a component and a METHOD")
			}
			var err error
			args, err = callArgs(o.args, pos[2:])
			return err
		},
		run: func(ctx context.Context, h *component.Handle, o *verbOptions, pos []string, out io.Writer) error {
			return runCall(ctx, h, o, pos[0], pos[1], args, out)
		},
	}
}

// callArgs builds the arguments of a call from --args and key=value pairs, keeping the
// order they were given in; a mistake is a usage error.
func callArgs(jsonArgs string, pairs []string) (wire.Object, error) {
	var obj wire.Object
	set := func(k string, v json.RawMessage) {
		for i := range obj {
			if obj[i].Key == k {
				obj[i].Value = v
				return
			}
		}
		obj = append(obj, wire.Field{Key: k, Value: v})
	}
	if jsonArgs != "" {
		raw := json.RawMessage(strings.TrimSpace(jsonArgs))
		if !json.Valid(raw) || raw[0] != '{' {
			return nil, cli.Usagef("--args must be a JSON object, e.g. --args '{\"a\": 5}'")
		}
		for _, m := range members(raw) {
			set(m.key, m.value)
		}
	}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, cli.Usagef("argument %q is not key=value", p)
		}
		set(k, argValue(v))
	}
	return obj, nil
}

// argValue is v as JSON when it is JSON, else as a JSON string.
func argValue(v string) json.RawMessage {
	if t := strings.TrimSpace(v); t != "" && json.Valid([]byte(t)) {
		return json.RawMessage(t)
	}
	b, _ := json.Marshal(v)
	return b
}

func runCall(ctx context.Context, h *component.Handle, o *verbOptions, name, method string, args wire.Object, out io.Writer) error {
	var opts []component.CallOption
	if o.token != "" {
		opts = append(opts, component.WithToken(o.token))
	}
	if args == nil {
		args = wire.Object{}
	}
	var result json.RawMessage
	if err := h.Call(ctx, name, method, args, &result, opts...); err != nil {
		return readable(err, name+"."+method, o.timeout)
	}
	return printResult(out, result, o.json)
}

// printResult writes a method's result: one line of JSON with --json, else a string as
// it is and anything else as indented JSON.
func printResult(out io.Writer, result json.RawMessage, asJSON bool) error {
	if len(result) == 0 {
		result = json.RawMessage("null")
	}
	if asJSON {
		return printJSON(out, result)
	}
	var s string
	if json.Unmarshal(result, &s) == nil {
		_, err := fmt.Fprintln(out, s)
		return err
	}
	var b bytes.Buffer
	if json.Indent(&b, result, "", "  ") != nil {
		b.Reset()
		b.Write(result)
	}
	_, err := fmt.Fprintln(out, b.String())
	return err
}

const pingUsage = `usage: atq ping NAME [options]

Sends ping to the component NAME and prints "pong from NAME in 1.2ms" when it answers
(--json: {"component": NAME, "result": "pong", "seconds": 0.0012}). A component the
registry knows is not alive fails at once (exit status 1); one that does not answer
within --timeout exits 5.

options:
`

func pingVerb() verb {
	return verb{
		name: "ping", usage: pingUsage,
		positional: oneName("ping"),
		run: func(ctx context.Context, h *component.Handle, o *verbOptions, pos []string, out io.Writer) error {
			begin := time.Now()
			if err := h.Ping(ctx, pos[0]); err != nil {
				return readable(err, pos[0], o.timeout)
			}
			took := time.Since(begin)
			if o.json {
				return printJSON(out, wire.Object{{Key: "component", Value: pos[0]}, {Key: "result", Value: "pong"}, {Key: "seconds", Value: took.Seconds()}})
			}
			_, err := fmt.Fprintf(out, "pong from %s in %v\n", pos[0], took.Round(10*time.Microsecond))
			return err
		},
	}
}
