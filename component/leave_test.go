package component_test

import (
	"testing"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/internal/testkit/leavetest"
)

// leaveEnv runs the leaving scenarios in one process, over the embedded transport.
func leaveEnv(t *testing.T) leavetest.Env {
	tr := bridge.NewEmbedded()
	sys := newSystem(t, actors.WithBroker(tr))
	return leavetest.Env{
		Spawn: func(t *testing.T, def *component.Component) *component.Handle { return spawn(t, sys, def) },
		Ready: func(_ *testing.T, queue string) int { return tr.Depth(queue) },
	}
}

func TestStoppedComponentAnswersWhatWaitsForIt(t *testing.T) {
	leavetest.StoppedComponentAnswersWhatWaits(ctxT(t), t, leaveEnv(t))
}

func TestStopDeliversAnswersOfRunningMethods(t *testing.T) {
	leavetest.StopDeliversAnswersOfRunningMethods(ctxT(t), t, leaveEnv(t))
}
