package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/at-technology/atqueue/component"
)

const inspectUsage = `usage: atq inspect NAME [options]

Shows what the registry holds of the component NAME: its description, and each method
as a signature with its arguments (name, type, required or optional with the default,
description; the fields of object arguments indented below them), e.g.

  int_sum(a: integer, b: integer) -> integer
      a  integer  required  first addend

--json prints the registry's inspect answer as it came, {"broker": {"session_id", ...},
"component": {"name", "description", "methods": {...}}}, with every method's JSON Schema.

options:
`

func inspectVerb() verb {
	return verb{
		name: "inspect", usage: inspectUsage,
		positional: oneName("inspect"),
		run:        runInspect,
	}
}

func runInspect(ctx context.Context, h *component.Handle, o *verbOptions, args []string, out io.Writer) error {
	raw, err := h.Inspect(ctx, args[0])
	if err != nil {
		return readable(err, "the registry", o.timeout)
	}
	if o.json {
		return printJSON(out, json.RawMessage(raw))
	}
	var rec struct {
		Broker struct {
			SessionID string `json:"session_id"`
			Alive     *bool  `json:"alive"`
		} `json:"broker"`
		Component struct {
			Name        string          `json:"name"`
			Description *string         `json:"description"`
			Methods     json.RawMessage `json:"methods"`
		} `json:"component"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return fmt.Errorf("%w: the registry's inspect answer: %v", component.ErrBadAnswer, err)
	}
	state := ""
	if rec.Broker.Alive != nil && !*rec.Broker.Alive {
		state = ", NOT ALIVE"
	}
	fmt.Fprintf(out, "%s (session %s%s)\n", args[0], rec.Broker.SessionID, state)
	if rec.Component.Description != nil && *rec.Component.Description != "" {
		fmt.Fprintf(out, "%s\n", *rec.Component.Description)
	}
	ms := members(rec.Component.Methods)
	if len(ms) == 0 {
		fmt.Fprintln(out, "\nno methods")
		return nil
	}
	for _, kv := range ms {
		var m method
		_ = json.Unmarshal(kv.value, &m)
		m.name = kv.key
		fmt.Fprintf(out, "\n  %s\n", m.signature())
		if m.Description != nil && *m.Description != "" {
			fmt.Fprintf(out, "      %s\n", *m.Description)
		}
		var table bytes.Buffer
		tw := tabwriter.NewWriter(&table, 0, 4, 2, ' ', 0)
		for _, r := range argumentRows(m) {
			depth := strings.Count(r[0], ".")
			fmt.Fprintf(tw, "      %s%s\t%s\t%s\t%s\n", strings.Repeat("  ", depth), r[0], r[1], r[2], r[3])
		}
		_ = tw.Flush()
		for _, line := range strings.SplitAfter(table.String(), "\n") {
			if line != "" {
				fmt.Fprintln(out, strings.TrimRight(line, " \n")) // no padding after an empty description
			}
		}
	}
	return nil
}
