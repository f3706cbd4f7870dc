package golden_test

import (
	"context"
	"testing"
	"time"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/wire"
)

// A register answer nobody reads stays in the durable recieve-<registry> queue and is
// handed to every later registrant (spec quirk 5). Here it is the golden
// register_answer.json, left by a Python IntSummator that died before reading it; a Go
// IntSummator registering afterwards must skip it and register.
// The registrant gives the stale answer back, and the transport does not offer it to that
// consumer again (it used to spin on it).
func TestStaleRegisterAnswer(t *testing.T) {
	testStaleRegisterAnswer(t, embeddedTransport)
}

func testStaleRegisterAnswer(t *testing.T, mk newTransport) {
	g := loadGolden(t)
	sc := mk(t)
	tr := sc.raw
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := tr.DeclareSession(ctx, wire.RegistrySession); err != nil {
		t.Fatal(err)
	}
	p := &prober{tr: tr}
	p.publish(t, wire.RecieveQueue(wire.RegistrySession), g.file(t, "register_answer.json"), nil)
	sys, err := actors.New(actors.WithBroker(sc.broker))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := sys.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	if _, err := sys.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	h, err := sys.Spawn(ctx, intSummator(&tokenLog{}))
	if err != nil {
		t.Fatalf("registering with a stale register answer on %s: %v", wire.RecieveQueue(wire.RegistrySession), err)
	}
	if h.SessionID() != wire.SessionID(summatorName) {
		t.Errorf("session %s", h.SessionID())
	}
}
