// Package seed holds the components of the seed example (the Python package's README):
// IntSummator with int_sum(a, b) -> int, and SumRequester, which calls it. cmd/demo and
// the programs beside this folder share them.
package seed

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/at-technology/atqueue/component"
)

// SumArgs are the arguments of int_sum.
type SumArgs struct {
	A int `json:"a" desc:"first addend"`
	B int `json:"b" desc:"second addend"`
}

// IntSummator defines the IntSummator component.
func IntSummator() *component.Component {
	c := component.New("IntSummator", component.Describe("Adds integers"))
	component.Method(c, "int_sum", func(_ context.Context, in SumArgs) (int, error) {
		return in.A + in.B, nil
	}, component.Description("Returns a + b"))
	return c
}

// SumRequester defines the SumRequester component: it has no methods of its own and
// only calls others.
func SumRequester() *component.Component {
	return component.New("SumRequester", component.Describe("Calls IntSummator.int_sum"))
}

// Flaky defines a component whose flaky_sum panics on its first call and works after
// its supervisor has restarted it: the demo's crash-and-restart scene.
func Flaky() *component.Component {
	var calls atomic.Int32
	c := component.New("Flaky")
	component.Method(c, "flaky_sum", func(_ context.Context, in SumArgs) (int, error) {
		if calls.Add(1) == 1 {
			panic(errors.New("simulated crash on the first call"))
		}
		return in.A + in.B, nil
	})
	return c
}
