package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/registry"
	"github.com/at-technology/atqueue/wire"
)

// A component registered by a peer that then vanished (nothing consumes its queue) is
// reported not alive, and calls to it fail at once instead of waiting for their deadline.
func TestDeadComponentFailsFast(t *testing.T) {
	emb := bridge.NewEmbedded()
	sys, err := actors.New(actors.WithBroker(emb))
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := sys.StartRegistry(ctx, registry.WithLiveness(5*time.Millisecond, 50*time.Millisecond), registry.WithStartGrace(50*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	caller, err := sys.Spawn(ctx, component.New("Caller"))
	if err != nil {
		t.Fatal(err)
	}
	// A peer registers "Ghost" the way a Python component does, and never consumes.
	reg := wire.Envelope{Sender: "Ghost", Reciever: wire.RegistryName, MessageID: wire.NewID(),
		Message: json.RawMessage(`{"type": "register", "component": {"name": "Ghost", "description": null, "methods": {}}}`)}
	body, _ := reg.Marshal()
	emb.Publish(wire.SendQueue(wire.RegistrySession), body, nil, nil)

	for {
		raw, err := caller.Inspect(ctx, "Ghost")
		if err == nil {
			var rec struct {
				Broker struct {
					SessionID string `json:"session_id"`
					Alive     *bool  `json:"alive"`
				} `json:"broker"`
			}
			if json.Unmarshal(raw, &rec) != nil || rec.Broker.SessionID != wire.SessionID("Ghost") {
				t.Fatalf("inspect: %s", raw)
			}
			if rec.Broker.Alive != nil && !*rec.Broker.Alive {
				break
			}
		} else if !errors.Is(err, component.ErrUnknownComponent) {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
			t.Fatal("Ghost was never reported dead")
		case <-time.After(5 * time.Millisecond):
		}
	}
	begin := time.Now()
	err = caller.Call(ctx, "Ghost", "anything", nil, nil)
	if !errors.Is(err, component.ErrNotAlive) {
		t.Fatalf("err = %v, want ErrNotAlive", err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Fatalf("the dead target took %v to fail", d)
	}
}

// The directory (a Go extension) lists every component with its liveness, method count
// and registration time; a component that stops consuming is reported not alive.
func TestDirectory(t *testing.T) {
	emb := bridge.NewEmbedded()
	sys, err := actors.New(actors.WithBroker(emb))
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := sys.StartRegistry(ctx, registry.WithLiveness(5*time.Millisecond, 50*time.Millisecond), registry.WithStartGrace(50*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	sum := component.New("IntSummator")
	component.Method(sum, "int_sum", func(_ context.Context, in sumArgs) (int, error) { return in.A + in.B, nil })
	if _, err := sys.Spawn(ctx, sum); err != nil {
		t.Fatal(err)
	}
	caller, err := sys.Spawn(ctx, component.New("Caller"))
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-time.Second)
	reg := wire.Envelope{Sender: "Ghost", Reciever: wire.RegistryName, MessageID: wire.NewID(),
		Message: json.RawMessage(`{"type": "register", "component": {"name": "Ghost", "description": null, "methods": {}}}`)}
	body, _ := reg.Marshal()
	emb.Publish(wire.SendQueue(wire.RegistrySession), body, nil, nil)
	for {
		dir, err := caller.Directory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]wire.DirectoryEntry{}
		for _, e := range dir {
			byName[e.Name] = e
		}
		s, g := byName["IntSummator"], byName["Ghost"]
		if s.Name == "" || s.Methods != 1 || !s.Go || s.SessionID != wire.SessionID("IntSummator") {
			t.Fatalf("IntSummator in the directory: %+v", s)
		}
		at, err := time.Parse(time.RFC3339Nano, s.RegisteredAt)
		if err != nil || at.Before(before) {
			t.Fatalf("registered_at %q: %v", s.RegisteredAt, err)
		}
		if g.Name != "" && !g.Alive && !g.Go && s.Alive && s.Consumers == 1 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the directory never showed Ghost dead and IntSummator alive: %+v", dir)
		case <-time.After(5 * time.Millisecond):
		}
	}
}
