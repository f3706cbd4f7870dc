package procs_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/at-technology/atqueue/internal/testkit/proctest"
)

// binDir holds the programs built by TestMain.
var binDir string

var programs = []string{
	"github.com/at-technology/atqueue/examples/intsummator",
	"github.com/at-technology/atqueue/examples/sumrequester",
	"github.com/at-technology/atqueue/cmd/atq",
	"github.com/at-technology/atqueue/cmd/demo",
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(proctest.Built(m, &binDir, "atq-procs-", programs...))
}
