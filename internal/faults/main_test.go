package faults_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

// binDir holds the programs built by TestMain.
var binDir string

var programs = []string{
	"github.com/at-technology/atqueue/internal/faults/cmd/counter",
	"github.com/at-technology/atqueue/cmd/atq",
	"github.com/at-technology/atqueue/examples/registry",
	"github.com/at-technology/atqueue/examples/intsummator",
	"github.com/at-technology/atqueue/examples/sumrequester",
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(built{m}) }

// built builds the programs into a temporary folder around the tests.
type built struct{ m *testing.M }

func (b built) Run() int {
	dir, err := os.MkdirTemp("", "atq-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command(goTool(), append([]string{"build", "-o", dir + string(filepath.Separator)}, programs...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "faults: building the programs: %v\n%s", err, out)
		return 1
	}
	binDir = dir
	return b.m.Run()
}

// goTool is the go command that runs these tests ($GOROOT/bin, which go test puts first
// on PATH), else the one on PATH.
func goTool() string {
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
