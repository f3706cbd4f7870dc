package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/console"
	"github.com/at-technology/atqueue/internal/cli"
)

const lsUsage = `usage: atq ls [options]

Lists the components the registry knows, alive or not, in registration order: name,
whether it is alive, its number of methods and when it registered (and, for one that is
not alive, when its queue last had a consumer). The verb's own component is left out.

A Go registry answers this with its directory; python -m at_queue does not (it knows no
liveness): after 0.5s without that answer, atq ls shows what inspect_all holds, with
ALIVE and REGISTERED as "?", and says so. --json prints
{"liveness": bool, "components": [{"name", "session_id", "alive" (null when unknown),
"consumers", "methods", "registered_at", "last_alive" (when not alive), "go"}, ...]}.

options:
`

func lsVerb() verb {
	return verb{
		name: "ls", usage: lsUsage,
		positional: func(_ *verbOptions, args []string, _ bool) error {
			if len(args) > 0 {
				return cli.Usagef("ls takes no arguments, got %q", args[0])
			}
			return nil
		},
		run: runLs,
	}
}

func runLs(ctx context.Context, h *component.Handle, o *verbOptions, _ []string, out io.Writer) error {
	v, err := console.Load(ctx, h, false)
	if err != nil {
		return readable(err, "the registry", o.timeout)
	}
	own := v.Components[:0]
	for _, e := range v.Components {
		if e.Name != h.Name() {
			own = append(own, e)
		}
	}
	v.Components = own
	if o.json {
		return printJSON(out, v)
	}
	printList(out, v, time.Now())
	return nil
}

// printList writes the view as a table for people, times in the local zone.
func printList(out io.Writer, v console.View, now time.Time) {
	if len(v.Components) == 0 {
		fmt.Fprintln(out, "no components registered")
	} else {
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tALIVE\tMETHODS\tREGISTERED")
		for _, e := range v.Components {
			alive := "?"
			if e.Alive != nil && *e.Alive {
				alive = "yes"
			} else if e.Alive != nil {
				alive = "no"
				if at, ok := parseTime(e.LastAlive); ok {
					alive += ", last seen " + at.Local().Format(time.DateTime)
				}
			}
			since := "?"
			if at, ok := parseTime(e.RegisteredAt); ok {
				since = at.Local().Format(time.DateTime) + " (" + ago(now.Sub(at)) + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", e.Name, alive, e.Methods, since)
		}
		_ = tw.Flush()
	}
	if !v.Liveness {
		fmt.Fprintln(out, "(the registry does not answer the directory request — python -m at_queue? — so liveness and registration times are unknown)")
	}
}

func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil && s != ""
}

// ago is a duration in its largest unit: 12s ago, 5m ago, 3h ago, 2d ago.
func ago(d time.Duration) string {
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d/time.Minute))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh ago", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd ago", int(d/(24*time.Hour)))
}
