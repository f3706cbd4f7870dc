// Package seed holds the components of the seed example (the Python package's README):
// IntSummator with int_sum(a, b) -> int, and SumRequester, which calls it. cmd/demo and
// the programs beside this folder share them.
package seed

import (
	"context"
	"fmt"
	"math/big"
	"sync/atomic"

	"github.com/at-technology/atqueue/component"
)

// SumArgs are the arguments of int_sum, as a caller of small sums writes them.
type SumArgs struct {
	A int `json:"a" desc:"first addend"`
	B int `json:"b" desc:"second addend"`
}

// Addends are the arguments of int_sum as IntSummator reads them: Python's int, exact
// at any size, so that 9223372036854775807 + 1 is 9223372036854775808 as in Python,
// never a number wrapped around to -9223372036854775808. Both describe a and b as
// integers.
type Addends struct {
	A big.Int `json:"a" desc:"first addend"`
	B big.Int `json:"b" desc:"second addend"`
}

// IntSummator defines the IntSummator component. Its int_sum is exact for integers of
// any size; a caller decoding a sum beyond int64 into an int gets an error, not a wrong
// number (decode into a *big.Int to read it).
func IntSummator() *component.Component {
	c := component.New("IntSummator", component.Describe("Adds integers"))
	component.Method(c, "int_sum", func(_ context.Context, in Addends) (*big.Int, error) {
		return new(big.Int).Add(&in.A, &in.B), nil
	}, component.Description("Returns a + b"))
	return c
}

// SumRequester defines the SumRequester component: it has no methods of its own and
// only calls others.
func SumRequester() *component.Component {
	return component.New("SumRequester", component.Describe("Calls IntSummator.int_sum"))
}

// Flaky defines a component whose flaky_sum finds its state broken on its first call
// (it returns component.ErrRestart: the caller gets a ComponentCrashedException and the
// supervisor restarts the component) and works after: the demo's crash-and-restart scene.
func Flaky() *component.Component {
	var calls atomic.Int32
	c := component.New("Flaky")
	component.Method(c, "flaky_sum", func(_ context.Context, in Addends) (*big.Int, error) {
		if calls.Add(1) == 1 {
			return nil, fmt.Errorf("%w: simulated broken state on the first call", component.ErrRestart)
		}
		return new(big.Int).Add(&in.A, &in.B), nil
	})
	return c
}
