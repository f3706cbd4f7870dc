// Command atq runs AT_QUEUE services and lets an operator look at them and call them.
//
// Its registry subcommand is a drop-in replacement for `python -m at_queue`: the same
// connection options (spec §11), the same debug HTTP API on -dh/-dp (spec §10, package
// httpapi), with the web console beside it (package console), and the same pidfile:
//
//	atq registry [-u URL | -H HOST -p PORT -L LOGIN -P PASSWORD -v VHOST] [--heartbeat D]
//	             [-dh HOST] [-dp PORT] [--call-timeout D] [--debugger=false]
//	             [--pidfile PATH] [--state FILE] [--dead-after D] [--debug]
//
// The verbs take the same connection options and run as a short-lived component
// (atq-<verb>-<random>) that unregisters on exit; --json makes their output one JSON
// document, and their exit status tells scripts what failed (exitCodesUsage):
//
//	atq ls                                     the components, alive or not
//	atq inspect NAME                           a component's methods and their arguments
//	atq call NAME METHOD [key=value ...] [--args JSON] [--token T] [--timeout D]
//	atq ping NAME
//	atq configurate NAME FILE|- [--token T]
//	atq help [COMMAND]
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
  registry      run the AT_QUEUE registry over RabbitMQ, with the debug HTTP API, the
                web console and /metrics, until SIGINT or SIGTERM
  ls            list the registered components: alive or not, methods, since when
  inspect NAME  show a component's description and its methods' arguments
  call NAME METHOD [key=value ...]
                call a method and print its result
  ping NAME     check that a component answers
  configurate NAME FILE|-
                send a configuration to a component
  watch         show the calls the registry routes as they end, until interrupted
  help [COMMAND]
                show this text, or the options of COMMAND (also: atq COMMAND -h)

The verbs (ls, inspect, call, ping, configurate, watch) take the connection options of atq
registry (-u URL, or -H -p -L -P -v; $AMQP_URL), --json, --timeout DURATION and --debug.

` + exitCodesUsage

// verbs are the operator's commands, built afresh for each run.
var verbs = map[string]func() verb{
	"ls": lsVerb, "inspect": inspectVerb, "call": callVerb, "ping": pingVerb, "configurate": configurateVerb,
	"watch": watchVerb,
}

func run(ctx context.Context, args []string, out, errOut io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(errOut, usage)
		return cli.Usagef("no command given")
	}
	cmd, rest := args[0], args[1:]
	if mk, ok := verbs[cmd]; ok {
		return runVerb(ctx, mk(), rest, out, errOut)
	}
	switch cmd {
	case "registry":
		return registry(ctx, rest, out, errOut)
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 && rest[0] == "registry" {
			return registry(ctx, []string{"-h"}, out, out)
		}
		if len(rest) > 0 && verbs[rest[0]] != nil {
			return runVerb(ctx, verbs[rest[0]](), []string{"-h"}, out, out)
		}
		fmt.Fprint(out, usage)
		return nil
	default:
		fmt.Fprint(errOut, usage)
		return cli.Usagef("unknown command %q", cmd)
	}
}
