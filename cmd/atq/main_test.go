package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/at-technology/atqueue/internal/testkit/proctest"
)

// binDir holds atq, built once by TestMain: the tests run it as a process, as an
// operator would.
var binDir string

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(proctest.Built(m, &binDir, "atq-cmd-", "github.com/at-technology/atqueue/cmd/atq"))
}

// Bounds on the program's behaviour, generous for a loaded 2-core machine.
const (
	ready   = 15 * time.Second // until a "listening" line
	stopped = 10 * time.Second // from a signal, or a refused start, to the exit
)

// start runs atq with args. $AMQP_URL is removed from its environment and
// $XDG_STATE_HOME is the test's temporary folder; every test passes --pidfile itself, so
// that /var/run/at_queue is never written.
func start(t *testing.T, args ...string) *proctest.Proc {
	t.Helper()
	if !hasFlag(args, "--pidfile") && !hasFlag(args, "-h") && (len(args) == 0 || args[0] == "registry") {
		t.Fatalf("the test must pass --pidfile: %v", args)
	}
	return proctest.Start(t, filepath.Join(binDir, "atq"), args,
		proctest.Unset("AMQP_URL"), proctest.Setenv("XDG_STATE_HOME", t.TempDir()))
}

func hasFlag(args []string, name string) bool {
	for _, a := range args {
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

// stop sends sig to p and requires exit status 0.
func stop(t *testing.T, p *proctest.Proc, sig os.Signal) {
	t.Helper()
	if code := p.Stop(sig, stopped); code != 0 {
		t.Fatalf("%s exited with status %d after %v, want 0\nstdout:\n%s\nstderr:\n%s", p.Name(), code, sig, p.Stdout(), p.Stderr())
	}
}
