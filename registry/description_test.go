package registry_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/at-technology/atqueue/internal/testkit/golden"
	"github.com/at-technology/atqueue/registry"
	"github.com/at-technology/atqueue/wire"
)

func TestParseDescriptionGolden(t *testing.T) {
	for _, f := range []string{"register_request.json", "register_request_probe_target.json", "register_request_inspector.json"} {
		env, err := wire.Decode(golden.Read(t, f), 0)
		if err != nil {
			t.Fatal(err)
		}
		start := strings.Index(string(env.Message), `"component": `) + len(`"component": `)
		raw := env.Message[start : len(env.Message)-1]
		d, err := registry.ParseDescription(raw)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		// The golden descriptions are already normalised: re-serialised they are unchanged.
		got, err := wire.Reformat(d.JSON)
		if err != nil || string(got) != string(raw) {
			t.Fatalf("%s: normalised form differs\n got %s\nwant %s", f, got, raw)
		}
	}
}

func TestParseDescriptionRefuses(t *testing.T) {
	cases := map[string]string{
		"not an object":    `"x"`,
		"no name":          `{"methods": {}}`,
		"methods array":    `{"name": "A", "methods": []}`,
		"extra input key":  `{"name": "A", "methods": {"m": {"name": "m", "inputs": {"a": {"name": "a", "schema": {}, "type": "int"}}, "output": {"schema": null}}}}`,
		"input no schema":  `{"name": "A", "methods": {"m": {"name": "m", "inputs": {"a": {"name": "a"}}, "output": {"schema": null}}}}`,
		"no output":        `{"name": "A", "methods": {"m": {"name": "m", "inputs": {}}}}`,
		"output extra key": `{"name": "A", "methods": {"m": {"name": "m", "inputs": {}, "output": {"schema": null, "name": "x"}}}}`,
		"required string":  `{"name": "A", "methods": {"m": {"name": "m", "inputs": {"a": {"name": "a", "schema": {}, "required": "yes"}}, "output": {"schema": null}}}}`,
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := registry.ParseDescription([]byte(raw)); !errors.Is(err, registry.ErrBadDescription) {
				t.Fatalf("err = %v, want ErrBadDescription", err)
			}
		})
	}
	d, err := registry.ParseDescription([]byte(`{"name": "Сумматор", "methods": {"m": {"inputs": {"a": {"name": "a", "schema": {"type": "integer"}}}, "output": {"schema": null}}}}`))
	if err != nil || d.Name != "Сумматор" {
		t.Fatal(err)
	}
	want := `{"name":"Сумматор","description":null,"methods":{"m":{"name":"m","description":null,"inputs":{"a":{"name":"a","required":false,"schema":{"type":"integer"},"strict_validation":false,"description":null}},"output":{"schema":null,"strict_validation":false,"description":null}}}}`
	if string(d.JSON) != want {
		t.Fatalf("normalised:\n got %s\nwant %s", d.JSON, want)
	}
}
