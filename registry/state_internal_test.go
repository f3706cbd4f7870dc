package registry

import (
	"encoding/json"
	"log/slog"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// The state file written without re-encoding the descriptions reads back as it was
// written, names with quotes and non-ASCII letters included, and is valid JSON.
func TestStateFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	in := []savedEntry{
		{Name: `Quote"d\ Ñame`, SessionID: "3b77ae37-4633-3abc-8d5f-e38581de1aba", Description: json.RawMessage(`{"name":"Quote\"d\\ Ñame","description":null,"methods":{}}`)},
		{Name: "Второй", SessionID: "8f6a1c3e-0d0f-3c55-9b0a-2f1b2b9c1f10", Description: json.RawMessage(`{"name":"Второй","description":"x","methods":{"m":{"input":{},"output":null}}}`)},
	}
	buf, err := saveState(path, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := loadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("read back %+v, wrote %+v", out, in)
	}
	// The next save reuses the first one's buffer: nothing of the longer file is left.
	if _, err := saveState(path, nil, buf); err != nil {
		t.Fatal(err)
	}
	if out, err := loadState(path); err != nil || len(out) != 0 {
		t.Fatalf("empty directory read back as %v %v", out, err)
	}
}

// A snapshot handed to the state file's writer right after another (the registry's last,
// as it stops) is written before close returns, and each write is reported back.
func TestStoreWritesLastSnapshotAtClose(t *testing.T) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	defer sys.Shutdown()
	saved := make(chan struct{}, 16)
	pid := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if _, ok := c.Message().(*stateSaved); ok {
			saved <- struct{}{}
		}
	}))
	path := filepath.Join(t.TempDir(), "state.json")
	s := newStore(path, sys.Root, pid, slog.New(slog.DiscardHandler))
	entry := func(name string) []savedEntry {
		return []savedEntry{{Name: name, SessionID: "8f6a1c3e-0d0f-3c55-9b0a-2f1b2b9c1f10", Description: json.RawMessage(`{"name":"` + name + `","description":null,"methods":{}}`)}}
	}
	s.save(entry("First"))
	select {
	case <-saved:
	case <-time.After(10 * time.Second):
		t.Fatal("the first write was never reported")
	}
	s.save(entry("Last"))
	closed := make(chan struct{})
	go func() { s.close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("close did not return")
	}
	out, err := loadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Name != "Last" {
		t.Fatalf("the file holds %+v, want the last snapshot", out)
	}
}

// The writer rests between writes: each write is reported no sooner than saveRest after
// its snapshot was handed over, so that the registry, which hands over the next snapshot
// only then, writes a burst of changes a few times a second.
func TestStoreRestsBetweenWrites(t *testing.T) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	defer sys.Shutdown()
	saved := make(chan time.Time, 16)
	pid := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if _, ok := c.Message().(*stateSaved); ok {
			saved <- time.Now()
		}
	}))
	path := filepath.Join(t.TempDir(), "state.json")
	s := newStore(path, sys.Root, pid, slog.New(slog.DiscardHandler))
	defer s.close()
	for i := range 3 {
		handed := time.Now()
		s.save([]savedEntry{{Name: "C" + strconv.Itoa(i), SessionID: "8f6a1c3e-0d0f-3c55-9b0a-2f1b2b9c1f10"}})
		select {
		case at := <-saved:
			if took := at.Sub(handed); took < saveRest {
				t.Fatalf("write %d was reported %v after its snapshot, want at least %v", i, took, saveRest)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("write %d was never reported", i)
		}
		if out, err := loadState(path); err != nil || len(out) != 1 || out[0].Name != "C"+strconv.Itoa(i) {
			t.Fatalf("after write %d the file holds %+v (%v)", i, out, err)
		}
	}
}

// A snapshot made of the lines the registry keeps per component is the file the fields
// would make.
func TestStateLinesMatchFields(t *testing.T) {
	in := []savedEntry{
		{Name: `Quote"d`, SessionID: "3b77ae37-4633-3abc-8d5f-e38581de1aba", Description: json.RawMessage(`{"name":"Quote\"d","methods":{}}`), Direct: true},
		{Name: "Второй", SessionID: "8f6a1c3e-0d0f-3c55-9b0a-2f1b2b9c1f10"},
	}
	lines := make([]savedEntry, len(in))
	for i, e := range in {
		lines[i] = savedEntry{line: appendEntry(nil, e)}
	}
	if a, b := string(encodeState(nil, in)), string(encodeState(nil, lines)); a != b {
		t.Fatalf("from the fields:\n%s\nfrom the lines:\n%s", a, b)
	}
}
