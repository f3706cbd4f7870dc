package wire

import (
	"testing"

	"github.com/google/uuid"
)

// TestNewIDs: ids are uuid4 strings, and different.
func TestNewIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		id := NewID()
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 4 || u.Variant() != uuid.RFC4122 || u.String() != id {
			t.Fatalf("%q is not a uuid4 in canonical form (%v)", id, err)
		}
		if seen[id] {
			t.Fatalf("%q twice", id)
		}
		seen[id] = true
	}
}

// TestQueueNames: the registry's queues are named like any session's.
func TestQueueNames(t *testing.T) {
	for _, sid := range []string{RegistrySession, SessionID("IntSummator"), "x"} {
		if SendQueue(sid) != "send-"+sid || RecieveQueue(sid) != "recieve-"+sid {
			t.Fatalf("%s: %s, %s", sid, SendQueue(sid), RecieveQueue(sid))
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = RecieveQueue(RegistrySession) }); n != 0 {
		t.Fatalf("naming the registry's queue allocates %v times", n)
	}
}
