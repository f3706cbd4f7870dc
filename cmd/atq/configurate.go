package main

import (
	"context"
	"encoding/json"
	"io"
	"os"

	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/internal/cli"
)

const configurateUsage = `usage: atq configurate NAME FILE [options]
       atq configurate NAME - [options]      (the configuration on stdin; "--" alone too)

Sends the configuration in FILE (a JSON object) to the component NAME, as the
configurate request of at_queue, and prints the component's answer (at_queue components
answer true). The file is read, and refused when it is not a JSON object (exit status 2),
before anything connects.

  --token TOKEN                  send TOKEN as the auth_token header

options:
`

// stdin is where "atq configurate NAME -" reads the configuration.
var stdin io.Reader = os.Stdin

func configurateVerb() verb {
	var config json.RawMessage
	return verb{
		name: "configurate", usage: configurateUsage, withToken: true,
		positional: func(_ *verbOptions, pos []string, dashdash bool) error {
			var (
				b   []byte
				err error
			)
			switch {
			case len(pos) == 0:
				return cli.Usagef("configurate needs the NAME of a component and a FILE (- for stdin)")
			case len(pos) > 2:
				return cli.Usagef("configurate takes NAME and one FILE, got also %q", pos[2])
			case len(pos) == 1 && !dashdash:
				return cli.Usagef("configurate needs a FILE after %s (- for stdin)", pos[0])
			case len(pos) == 1 || pos[1] == "-":
				b, err = io.ReadAll(stdin)
			default:
				b, err = os.ReadFile(pos[1])
			}
			if err != nil {
				return cli.Usagef("reading the configuration: %v", err)
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(b, &obj); err != nil || obj == nil {
				return cli.Usagef("the configuration must be a JSON object: %v", jsonProblem(err))
			}
			config = b
			return nil
		},
		run: func(ctx context.Context, h *component.Handle, o *verbOptions, pos []string, out io.Writer) error {
			var opts []component.CallOption
			if o.token != "" {
				opts = append(opts, component.WithToken(o.token))
			}
			res, err := h.Configurate(ctx, pos[0], config, opts...)
			if err != nil {
				return readable(err, pos[0], o.timeout)
			}
			return printResult(out, res, o.json)
		},
	}
}

func jsonProblem(err error) string {
	if err == nil {
		return "it is not an object"
	}
	return err.Error()
}
