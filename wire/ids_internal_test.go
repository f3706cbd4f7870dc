package wire

import (
	"sync"
	"testing"

	"github.com/google/uuid"
)

// TestNewIDs: ids are uuid4 strings, and different, also when taken on several
// goroutines at once.
func TestNewIDs(t *testing.T) {
	const workers, each = 8, 1000
	ids := make(chan string, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				ids <- NewID()
			}
		}()
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
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
