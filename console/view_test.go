package console

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/at-technology/atqueue/wire"
)

// A Go registry: the directory's entries, in its order, with inspect_all's descriptions;
// last_alive only for a component that is not alive.
func TestLoadFromDirectory(t *testing.T) {
	reg := &fakeRegistry{entries: []wire.DirectoryEntry{entry("Zeta", true, 2), entry("Alpha", false, 0)}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := Load(ctx, reg, true)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Liveness || len(v.Components) != 2 || v.Components[0].Name != "Zeta" || v.Components[1].Name != "Alpha" {
		t.Fatalf("view %+v", v)
	}
	z, a := v.Components[0], v.Components[1]
	if z.Alive == nil || !*z.Alive || z.LastAlive != "" || z.Methods != 2 || *z.Consumers != 1 || z.RegisteredAt == "" || !z.Go {
		t.Errorf("live entry %+v", z)
	}
	if a.Alive == nil || *a.Alive || a.LastAlive != "2026-12-01T10:05:00Z" {
		t.Errorf("dead entry %+v", a)
	}
	var d struct{ Description string }
	if err := json.Unmarshal(z.Description, &d); err != nil || d.Description != "the Zeta" {
		t.Errorf("description %s %v", z.Description, err)
	}
	if v, err := Load(ctx, reg, false); err != nil || v.Components[0].Description != nil {
		t.Errorf("without descriptions: %+v %v", v, err)
	}
}

// python -m at_queue never answers the directory request: Load gives what inspect_all
// holds, in its order, with liveness unknown, once DirectoryGrace has passed.
func TestLoadFallsBackToInspectAll(t *testing.T) {
	reg := &fakeRegistry{noDirectory: true, entries: []wire.DirectoryEntry{entry("IntSummator", true, 1), entry("Old", false, 3)}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := Load(ctx, reg, true)
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("Load waited for the caller's deadline")
	}
	if v.Liveness || len(v.Components) != 2 {
		t.Fatalf("view %+v", v)
	}
	for i, want := range []struct {
		name    string
		methods int
	}{{"IntSummator", 1}, {"Old", 3}} {
		e := v.Components[i]
		if e.Name != want.name || e.Methods != want.methods || e.Alive != nil || e.RegisteredAt != "" || e.SessionID != "sid-"+want.name || e.Description == nil {
			t.Errorf("entry %d: %+v", i, e)
		}
	}
}

func TestLoadFails(t *testing.T) {
	reg := &fakeRegistry{fail: errDown}
	if _, err := Load(context.Background(), reg, true); !errors.Is(err, errDown) {
		t.Errorf("got %v, want the registry's error", err)
	}
	bad := &badRegistry{}
	if _, err := Load(context.Background(), bad, true); !errors.Is(err, ErrUnexpected) {
		t.Errorf("got %v, want ErrUnexpected", err)
	}
}

type badRegistry struct{ fakeRegistry }

func (*badRegistry) InspectAll(context.Context) (json.RawMessage, error) {
	return json.RawMessage(`["not", "an", "object"]`), nil
}
