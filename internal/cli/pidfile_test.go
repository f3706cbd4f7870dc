package cli

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestPidfileWriteAndRemove(t *testing.T) {
	path := filepath.Join(t.TempDir(), "at_queue", "pidfile.pid")
	p, err := WritePidfile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != strconv.Itoa(os.Getpid())+"\n" {
		t.Fatalf("content %q %v", b, err)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v %v, want 0644 (health checks of other users read it)", info.Mode(), err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("files left beside it: %v", entries)
	}
	if p.Replaced != 0 {
		t.Errorf("Replaced = %d for a new file", p.Replaced)
	}
	if err := p.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("still there: %v", err)
	}
	if err := p.Remove(); err != nil {
		t.Errorf("a second Remove: %v", err)
	}
	var none *Pidfile
	if err := none.Remove(); err != nil {
		t.Errorf("nil Remove: %v", err)
	}
}

func TestPidfileNotOursAnyMore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pid")
	p, err := WritePidfile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.Remove(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "1\n" {
		t.Errorf("another process's pidfile was changed: %q", b)
	}
	// A live process's pid is reported as replaced (pid 1 always runs).
	p, err = WritePidfile(path)
	if err != nil || p.Replaced != 1 {
		t.Errorf("Replaced = %v, %v; want 1", p, err)
	}
}

func TestPidfileCannotBeWritten(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := WritePidfile(filepath.Join(file, "pid")); err == nil {
		t.Error("no error for a folder that is a file")
	}
}

func TestCheckStateFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "state.json")
	if err := os.WriteFile(file, []byte("[]"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ok := range []string{"", file, filepath.Join(dir, "new", "state.json")} {
		if err := CheckStateFile(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{dir, filepath.Join(file, "state.json")} {
		if err := CheckStateFile(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if b, _ := os.ReadFile(file); string(b) != "[]" {
		t.Errorf("the state changed: %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("files left behind: %v", entries)
	}
}
