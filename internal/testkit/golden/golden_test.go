package golden

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDirIsTheModulesTestdata(t *testing.T) {
	dir := Dir(t)
	if !filepath.IsAbs(dir) {
		t.Fatalf("Dir = %s, want an absolute path", dir)
	}
	// This package sits at internal/testkit/golden: the root is three folders up.
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(wd, "..", "..", "..", "testdata", "golden")
	if filepath.Clean(want) != dir {
		t.Fatalf("Dir = %s, want %s", dir, filepath.Clean(want))
	}
}

func TestRead(t *testing.T) {
	if b := Read(t, "register_request.json"); !bytes.HasPrefix(b, []byte(`{"sender": "IntSummator", "reciever": "registry"`)) {
		t.Fatalf("register_request.json starts with %.60q", b)
	}
	// Subfolders are named with a slash; the captured HTTP keeps its CRLF line ends.
	if b := Read(t, "debug_http/post_exec_method_ok.http"); !bytes.HasPrefix(b, []byte("HTTP/1.1 200 OK\r\n")) {
		t.Fatalf("post_exec_method_ok.http starts with %.40q", b)
	}
}

func TestModuleRoot(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b", "c")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	// No go.mod anywhere above a fresh temporary folder.
	if got, err := moduleRoot(deep); !errors.Is(err, errNoModule) {
		t.Fatalf("moduleRoot without go.mod = %q, %v; want errNoModule", got, err)
	}
	// A folder named go.mod is not a module.
	if err := os.Mkdir(filepath.Join(root, "a", "b", "go.mod"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "a", "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, start := range []string{deep, filepath.Join(root, "a")} {
		if got, err := moduleRoot(start); err != nil || got != filepath.Join(root, "a") {
			t.Fatalf("moduleRoot(%s) = %q, %v; want %s", start, got, err, filepath.Join(root, "a"))
		}
	}
}
