package hostile_test

import (
	"errors"
	"testing"
	"time"

	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/wire"
	amqp "github.com/rabbitmq/amqp091-go"
)

// Nobody can unregister a live Python component: an unregister with its name as sender
// is refused on the registry's queue, on another component's queue and on the component's
// own queue (Python components never send one, and the envelope's sender proves nothing),
// with or without a forged instance header; the component stays routable, and its name
// cannot be taken by another process.
func TestNobodyUnregistersAPythonComponent(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := deadline(t, 60*time.Second)
	reg := process(t, url, nil)
	if _, err := reg.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	victim := pyRegister(t, ctx, url, "IntSummator")
	caller, err := process(t, url, nil).Spawn(ctx, component.New("Caller"))
	if err != nil {
		t.Fatal(err)
	}
	attacker := rawPeer(t, url, "Attacker")
	unregister := wire.Object{{Key: "type", Value: wire.TypeUnregister}}
	for _, tc := range []struct {
		name  string
		queue string
		h     amqp.Table
	}{
		{"on the registry's queue", wire.SendQueue(wire.RegistrySession), nil},
		{"on the registry's queue, forged instance", wire.SendQueue(wire.RegistrySession), amqp.Table{wire.InstanceHeader: ""}},
		{"on another component's queue", wire.SendQueue(wire.SessionID("Attacker")), nil},
		{"on its own queue", wire.SendQueue(victim.SID), nil},
	} {
		body, _ := envelope("IntSummator", wire.RegistryName, unregister)
		attacker.publish(tc.queue, body, tc.h)
	}
	// Each was answered (where it could be) with false: probe with a request that
	// comes after them through the same queues.
	var sum int
	if err := caller.Call(ctx, "IntSummator", "int_sum", map[string]int{"a": 5, "b": 18}, &sum); err != nil || sum != 23 {
		t.Fatalf("the Python component after the unregisters: %d, %v", sum, err)
	}
	if ok, err := caller.CheckRegistered(ctx, "IntSummator"); err != nil || !ok {
		t.Fatalf("check_registered after the unregisters: %v, %v", ok, err)
	}
	_, err = process(t, url, nil).Spawn(ctx, summator("IntSummator"))
	if !errors.Is(err, component.ErrRegistration) {
		t.Fatalf("another process taking the live Python component's name: %v", err)
	}
}
