package hostile_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/registry"
	"github.com/at-technology/atqueue/wire"
)

// Descriptions have limits: one past any of them is refused with an answer that names
// the limit and the option that sets it, and the registry keeps serving; the limits are
// configurable.
func TestRegistrationLimits(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := deadline(t, 60*time.Second)
	reg := process(t, url, nil)
	if _, err := reg.StartRegistry(ctx, registry.WithLimits(registry.Limits{Methods: 3})); err != nil {
		t.Fatal(err)
	}
	peer := rawSession(t, url, wire.RegistrySession) // reads recieve-<registry>, as a registrant
	component := func(name, description string, methods int) wire.Object {
		ms := wire.Object{}
		for i := range methods {
			m := fmt.Sprintf("m%d", i)
			ms = append(ms, wire.Field{Key: m, Value: wire.Object{{Key: "name", Value: m}, {Key: "description", Value: nil},
				{Key: "inputs", Value: wire.Object{}}, {Key: "output", Value: wire.Object{{Key: "schema", Value: nil}}}}})
		}
		return wire.Object{{Key: "type", Value: wire.TypeRegister}, {Key: "component", Value: wire.Object{
			{Key: "name", Value: name}, {Key: "description", Value: description}, {Key: "methods", Value: ms}}}}
	}
	for _, tc := range []struct {
		name    string
		msg     wire.Object
		refusal string // "" for accepted
	}{
		{"2 MB description", component("Huge", strings.Repeat("x", 2<<20), 0), "--max-description"},
		{"300-character name", component(strings.Repeat("n", 300), "", 0), "--max-name"},
		{"4 methods, 3 allowed", component("Many", "", 4), "--max-methods"},
		{"within the limits", component("Fine", strings.Repeat("x", 1000), 3), ""},
	} {
		body, id := envelope("Registrant", wire.RegistryName, tc.msg)
		peer.publish(wire.SendQueue(wire.RegistrySession), body, nil)
		a := peer.answer(ctx, id)
		switch {
		case tc.refusal == "" && a.HasErrors:
			t.Errorf("%s: refused: %s", tc.name, wire.ErrorTexts(a.Errors))
		case tc.refusal != "" && (!a.HasErrors || !strings.Contains(wire.ErrorTexts(a.Errors), tc.refusal)):
			t.Errorf("%s: answer %.300s, want a refusal naming %s", tc.name, a.Raw, tc.refusal)
		}
	}
}
