package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/internal/cli"
	"github.com/at-technology/atqueue/wire"
)

const watchUsage = `usage: atq watch [options]

Shows every call the registry routes as it ends, until SIGINT or SIGTERM (then exits 0):

  14:03:07.512  SumRequester → IntSummator.int_sum  ok  1.2ms
  14:03:07.530  SumRequester → IntSummator.int_sum  invalid arguments  0.9ms  b: value is not a valid integer

the time the answer passed the registry, the caller, the receiver and method, the outcome
(ok, or the kind of error), the time from the request passing the registry to its answer
(absent when the registry answered itself), and the error in one line. With --json, one
JSON object per call and line, with the fields type (always "call"), at, from, to,
method, message_id, outcome, error and ms. It needs the Go registry (python -m at_queue
does not answer a watch: exit status 5 after --timeout).

options:
`

func watchVerb() verb {
	return verb{
		name: "watch", usage: watchUsage, endless: true,
		positional: func(_ *verbOptions, pos []string, _ bool) error {
			if len(pos) > 0 {
				return cli.Usagef("watch takes no argument, got %q", pos[0])
			}
			return nil
		},
		run: func(ctx context.Context, h *component.Handle, o *verbOptions, _ []string, out io.Writer) error {
			return runWatch(ctx, h, o, out)
		},
	}
}

func runWatch(ctx context.Context, h *component.Handle, o *verbOptions, out io.Writer) error {
	stream, err := h.Stream(ctx, wire.RegistryName, wire.Object{{Key: "type", Value: wire.TypeWatch}})
	if err != nil {
		return err
	}
	confirm := time.NewTimer(o.timeout)
	defer confirm.Stop()
	select {
	case r, ok := <-stream:
		var yes bool
		if !ok {
			return nil // interrupted
		}
		if r.HasErrors || json.Unmarshal(r.Result, &yes) != nil || !yes {
			return cli.Exit(exitFailed, fmt.Errorf("the registry refused to stream its calls: %s", r.Raw))
		}
	case <-confirm.C:
		return cli.Exit(exitNoAnswer, fmt.Errorf("the registry did not answer the watch request within %v (python -m at_queue has no stream of calls)", o.timeout))
	case <-ctx.Done():
		return nil
	}
	for r := range stream {
		var ev wire.CallEvent
		if r.HasErrors || wire.Unmarshal(r.Raw, &ev) != nil || ev.Type != wire.TypeCall {
			continue
		}
		if o.json {
			if err := printJSON(out, ev); err != nil {
				return err
			}
			continue
		}
		at := ev.At
		if t, err := time.Parse(time.RFC3339Nano, ev.At); err == nil {
			at = t.Local().Format("15:04:05.000")
		}
		line := fmt.Sprintf("%s  %s → %s.%s  %s", at, ev.From, ev.To, ev.Method, ev.Outcome)
		if ev.Ms > 0 {
			line += fmt.Sprintf("  %.1fms", ev.Ms)
		}
		if ev.Error != "" {
			line += "  " + ev.Error
		}
		if _, err := fmt.Fprintln(out, line); err != nil {
			return err
		}
	}
	return nil
}
