package golden

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// rel is where the captured messages sit, relative to the module root.
var rel = filepath.Join("testdata", "golden")

// errNoModule reports a working directory outside any Go module.
var errNoModule = errors.New("no go.mod in this folder or any above it")

// Dir returns the absolute path of testdata/golden of this module, or fails t.
func Dir(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("golden: %v", err)
	}
	root, err := moduleRoot(wd)
	if err != nil {
		t.Fatalf("golden: %v", err)
	}
	dir := filepath.Join(root, rel)
	if _, err := os.Stat(filepath.Join(dir, "index.json")); err != nil {
		t.Fatalf("golden: the captured messages are missing from the repository: %v", err)
	}
	return dir
}

// Read returns the bytes of one captured file, name being relative to Dir
// ("register_request.json", "debug_http/post_exec_method_ok.http"), or fails t.
func Read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(t), filepath.FromSlash(name)))
	if err != nil {
		t.Fatalf("golden: %v", err)
	}
	return b
}

// moduleRoot returns the nearest folder at or above dir that holds a go.mod.
func moduleRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if st, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && !st.IsDir() {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%w (started at %s)", errNoModule, dir)
		}
	}
}
