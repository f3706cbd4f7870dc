package proctest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Runner is what TestMain runs: a *testing.M, and what Built returns.
type Runner interface{ Run() int }

// Build builds the Go packages pkgs (import paths of main packages) into a new temporary
// folder, named after pattern as os.MkdirTemp names it, with the go command that runs the
// tests. It returns the folder, which the caller removes; on an error it leaves none.
func Build(pattern string, pkgs ...string) (string, error) {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", err
	}
	cmd := exec.Command(goTool(), append([]string{"build", "-o", dir + string(filepath.Separator)}, pkgs...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("building %v: %w\n%s", pkgs, err, out)
	}
	return dir, nil
}

// Built wraps m so that its Run builds pkgs with Build first, sets *dir to their folder,
// runs m and removes the folder. When the build fails it prints why on stderr and returns
// 1 without running any test. For TestMain:
//
//	func TestMain(m *testing.M) { goleak.VerifyTestMain(proctest.Built(m, &binDir, "atq-x-", programs...)) }
func Built(m Runner, dir *string, pattern string, pkgs ...string) Runner {
	return built{m: m, dir: dir, pattern: pattern, pkgs: pkgs}
}

type built struct {
	m       Runner
	dir     *string
	pattern string
	pkgs    []string
}

func (b built) Run() int {
	dir, err := Build(b.pattern, b.pkgs...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "proctest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	*b.dir = dir
	return b.m.Run()
}

// goTool is the go command that runs these tests ($GOROOT/bin, which go test puts first
// on PATH), else the one on PATH.
func goTool() string {
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}
