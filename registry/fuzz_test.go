package registry_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/at-technology/atqueue/registry"
)

// FuzzParseDescription: any register payload is either refused with ErrBadDescription or
// normalised into a description that parses again to the same bytes. Never a panic.
func FuzzParseDescription(f *testing.F) {
	f.Add([]byte(`{"name": "IntSummator", "description": null, "methods": {"int_sum": {"name": "int_sum", "description": null, "inputs": {"a": {"name": "a", "required": true, "schema": {"title": "A", "type": "integer"}, "strict_validation": false, "description": null}}, "output": {"schema": {"title": "Result", "type": "integer"}, "strict_validation": false, "description": null}}}}`))
	f.Add([]byte(`{"name": "Сумматор", "methods": {}}`))
	f.Add([]byte(`{"name": "A", "methods": {"m": {"inputs": {"a": {"name": "a", "schema": {}, "type": 1}}, "output": {"schema": null}}}}`))
	f.Add([]byte(`{"name": 5}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := registry.ParseDescription(raw)
		if err != nil {
			if !errors.Is(err, registry.ErrBadDescription) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if !json.Valid(d.JSON) {
			t.Fatalf("normalised description is not JSON: %s", d.JSON)
		}
		again, err := registry.ParseDescription(d.JSON)
		if err != nil || string(again.JSON) != string(d.JSON) || again.Name != d.Name {
			t.Fatalf("not stable: %s -> %s (%v)", d.JSON, again.JSON, err)
		}
	})
}
