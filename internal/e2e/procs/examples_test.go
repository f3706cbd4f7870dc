package procs_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The examples can be copied into another module: they import no package under internal/,
// which Go refuses to other modules. examples/sumrequester/bench.go is the one exception,
// the hook that keeps the benchmark's options; the example is main.go without it.
func TestExamplesUseOnlyThePublicAPI(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "examples", "*", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		if filepath.ToSlash(f) == "../../../examples/sumrequester/bench.go" || strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ast, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range ast.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); strings.Contains(p, "/internal/") || strings.HasSuffix(p, "/internal") {
				t.Errorf("%s imports %s: another module could not build it", f, p)
			}
		}
		checked++
	}
	if checked < 3 { // intsummator, sumrequester, seed
		t.Fatalf("checked %d files under examples/, want at least 3: %v", checked, files)
	}
}
