package component_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/wire"
)

// With a dedupe file, a request delivered again to a component started anew (as after a
// crash) is answered from the journal, and a request that killed the process three times
// is refused instead of started again.
func TestDedupeJournalOutlivesTheProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "counter.dedupe")
	// Three starts and no answer: what a request that kills the process leaves behind.
	poison := `{"s":"Elsewhere","i":"poison","b":true}` + "\n"
	if err := os.WriteFile(path, []byte(strings.Repeat(poison, 3)), 0o644); err != nil {
		t.Fatal(err)
	}
	rec, sys := recordedSystem(t)
	ctx := ctxT(t)
	var runs atomic.Int32
	def := func() *component.Component {
		c := component.New("Counter", component.WithDedupeFile(path))
		component.Method(c, "bump", func(context.Context, struct{}) (int32, error) { return runs.Add(1), nil })
		return c
	}
	rec.watchAnswers("Counter")
	ask := func(id string) []byte {
		t.Helper()
		req := wire.Envelope{Sender: "Elsewhere", Reciever: "Counter", MessageID: id,
			Message: []byte(`{"type": "exec_method", "method": "bump", "args": {}}`)}
		body, _ := req.Marshal()
		rec.Embedded.Publish(wire.RecieveQueue(wire.SessionID("Counter")), body, nil, nil)
		for {
			select {
			case a := <-rec.got:
				if e, err := wire.Decode(a, 0); err == nil && e.AnswerTo == id {
					return a
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s was not answered", id)
			}
		}
	}

	first, err := sys.Spawn(ctx, def())
	if err != nil {
		t.Fatal(err)
	}
	answer := ask("once")
	if err := first.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Spawn(ctx, def()); err != nil {
		t.Fatal(err)
	}
	if again := ask("once"); !bytes.Equal(answer, again) || runs.Load() != 1 {
		t.Fatalf("after a restart the request ran %d times; answers\n%s\n%s", runs.Load(), answer, again)
	}
	refused := ask("poison")
	if runs.Load() != 1 || !bytes.Contains(refused, []byte(component.ComponentCrashedException)) || !bytes.Contains(refused, []byte("started 3 times")) {
		t.Fatalf("poison request: runs=%d answer %s", runs.Load(), refused)
	}
}
