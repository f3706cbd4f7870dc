// Command atq runs AT_QUEUE services. Its registry subcommand is a drop-in replacement
// for `python -m at_queue`: the same connection options (spec §11), the same debug HTTP
// API on -dh/-dp (spec §10, package httpapi) and the same pidfile:
//
//	atq registry [-u URL | -H HOST -p PORT -L LOGIN -P PASSWORD -v VHOST] [--heartbeat D]
//	             [-dh HOST] [-dp PORT] [--call-timeout D] [--debugger=false]
//	             [--pidfile PATH] [--state FILE] [--dead-after D] [--debug]
//	atq help [registry]
//
// Differences from the Python command: bad option values (an unwritable --state, a
// negative duration, a port out of range, a taken HTTP address) are refused at start; the
// calls of the HTTP API have a deadline (--call-timeout) where Python's wait forever; any
// error writing the pidfile is logged, not only a permission error, and the pidfile is
// removed at exit; SIGINT or SIGTERM stop the HTTP server, the inspector, the registry and
// the connection in that order and exit 0 (Python hangs); the heartbeat is the same with
// or without a URL.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/at-technology/atqueue/internal/cli"
)

func main() {
	os.Exit(cli.Main("atq", func(ctx context.Context, args []string) error {
		return run(ctx, args, os.Stdout, os.Stderr)
	}))
}

const usage = `usage: atq <command> [options]

commands:
  registry   run the AT_QUEUE registry over RabbitMQ until SIGINT or SIGTERM
  help       show this text, or "atq help registry" for the registry's options
`

func run(ctx context.Context, args []string, out, errOut io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(errOut, usage)
		return cli.Usagef("no command given")
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "registry":
		return registry(ctx, rest, out, errOut)
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 && rest[0] == "registry" {
			return registry(ctx, []string{"-h"}, out, out)
		}
		fmt.Fprint(out, usage)
		return nil
	default:
		fmt.Fprint(errOut, usage)
		return cli.Usagef("unknown command %q", cmd)
	}
}
