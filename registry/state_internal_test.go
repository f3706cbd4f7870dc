package registry

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
)

// The state file written without re-encoding the descriptions reads back as it was
// written, names with quotes and non-ASCII letters included, and is valid JSON.
func TestStateFileRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	in := []savedEntry{
		{Name: `Quote"d\ Ñame`, SessionID: "3b77ae37-4633-3abc-8d5f-e38581de1aba", Description: json.RawMessage(`{"name":"Quote\"d\\ Ñame","description":null,"methods":{}}`)},
		{Name: "Второй", SessionID: "8f6a1c3e-0d0f-3c55-9b0a-2f1b2b9c1f10", Description: json.RawMessage(`{"name":"Второй","description":"x","methods":{"m":{"input":{},"output":null}}}`)},
	}
	if err := saveState(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := loadState(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("read back %+v, wrote %+v", out, in)
	}
	if err := saveState(path, nil); err != nil {
		t.Fatal(err)
	}
	if out, err := loadState(path); err != nil || len(out) != 0 {
		t.Fatalf("empty directory read back as %v %v", out, err)
	}
}
