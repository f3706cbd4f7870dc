// Command atq runs AT_QUEUE services. Its registry subcommand is the Go replacement for
// the registry of `python -m at_queue`, with the same connection options (spec §11):
//
//	atq registry [-u URL | -H HOST -p PORT -L LOGIN -P PASSWORD -v VHOST] [--heartbeat D]
//	atq help [registry]
//
// Differences from the Python command: no pidfile, no debug HTTP server (its -dh/-dp
// options are accepted and ignored with a warning), a clean exit 0 on SIGINT or SIGTERM
// after an ordered shutdown, and the heartbeat is the same with or without a URL.
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
