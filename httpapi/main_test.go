package httpapi_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/at-technology/atqueue/component"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// nopCaller is a Caller for the checks that make no call.
type nopCaller struct{ *component.Handle }
