package wire_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// No package but wire writes or reads protocol text: queue names, header names, message
// types and the registry's error texts are written (and recognised) in one place. The
// patterns are the pieces of protocol text that other packages used to spell by hand.
func TestOnlyWireHoldsProtocolText(t *testing.T) {
	patterns := []string{
		"send-", "recieve-",
		" is not registered yet", " is registered but not alive", " has stopped; message",
		`{"type": "`,
	}
	// Header names are short words that other names may contain (atq_registry_calls_total
	// is a metric): only the whole string counts.
	headers := []string{"atq_instance", "atq_registry", "atq_reply"}
	// internal/bench holds the bare amqp091-go baseline of the benchmarks: it must not use
	// the project's codec, so it writes its two bodies by hand on purpose;
	// internal/testkit/pypeer plays Python peers, which write their own bodies.
	exempt := map[string]bool{"wire": true, "internal/bench": true, "internal/testkit/pypeer": true, "testdata": true}
	root := moduleRoot(t)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if exempt[filepath.ToSlash(rel)] || strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			for _, h := range headers {
				if s == h {
					t.Errorf("%s: header name %q outside wire", rel, h)
				}
			}
			for _, p := range patterns {
				if strings.HasPrefix(s, p) || strings.Contains(s, p) && !strings.HasSuffix(p, "-") {
					t.Errorf("%s: protocol text %q outside wire: %q", rel, p, s)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}
