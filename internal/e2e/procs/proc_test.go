package procs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/internal/testkit/proctest"
)

// start runs the built program bin with args. $AMQP_URL is removed from its environment,
// so every broker it uses is named on its command line, and $XDG_STATE_HOME, under which a
// registry keeps its directory, is the test's temporary folder.
func start(t *testing.T, bin string, args ...string) *proctest.Proc {
	t.Helper()
	return proctest.Start(t, filepath.Join(binDir, bin), args,
		proctest.Unset("AMQP_URL"), proctest.Setenv("XDG_STATE_HOME", t.TempDir()))
}

// registry starts `atq registry` on url, without a pidfile and with its debug HTTP API on
// a free port, and waits until it serves; the line that says so must mask the password.
func registry(t *testing.T, url string) *proctest.Proc {
	t.Helper()
	reg := start(t, "atq", "registry", "-u", url, "--pidfile", "", "-dp", "0")
	line := reg.WaitLine("registry listening on ", ready)
	if strings.Contains(line, "guest:guest") || !strings.Contains(line, "guest:***@") {
		t.Errorf("the password is not masked: %q", line)
	}
	return reg
}

// stop sends sig to p and requires exit status 0 within the given time.
func stop(t *testing.T, p *proctest.Proc, sig os.Signal, within time.Duration) {
	t.Helper()
	p.Signal(sig)
	t0 := time.Now()
	if code := p.Wait(within); code != 0 {
		t.Fatalf("%s exited with status %d after %v, want 0\nstdout:\n%s\nstderr:\n%s", p.Name(), code, sig, p.Stdout(), p.Stderr())
	}
	t.Logf("%s: exit 0, %v after %v", p.Name(), time.Since(t0).Round(time.Millisecond), sig)
}
