package faults_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/at-technology/atqueue/internal/testkit/proctest"
)

// Bounds on the programs, generous for a loaded 2-core machine running the race detector.
const (
	ready   = 20 * time.Second // from start to the "registered"/"listening" line
	stopped = 15 * time.Second // from a signal to the exit
)

// start runs the built program bin with args. $AMQP_URL is removed from its environment,
// so every broker it uses is named on its command line, and $XDG_STATE_HOME points into
// the test's temporary folder. Failures show the last 40 lines of its stderr.
func start(t *testing.T, bin string, args ...string) *proctest.Proc {
	t.Helper()
	return proctest.Start(t, filepath.Join(binDir, bin), args,
		proctest.Unset("AMQP_URL"), proctest.Setenv("XDG_STATE_HOME", t.TempDir()), proctest.StderrTail(40))
}
