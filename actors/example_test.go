package actors_test

import (
	"context"
	"fmt"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/component"
)

// The README's "write your first component", kept compiling and running here.
func Example() {
	type SumArgs struct {
		A int `json:"a"`
		B int `json:"b"`
	}
	ctx := context.Background()
	sys, _ := actors.New() // embedded transport: no broker needed
	defer sys.Shutdown(ctx)
	sys.StartRegistry(ctx)

	summator := component.New("IntSummator")
	component.Method(summator, "int_sum", func(_ context.Context, in SumArgs) (int, error) {
		return in.A + in.B, nil
	})
	sys.Spawn(ctx, summator)

	caller, _ := sys.Spawn(ctx, component.New("SumRequester"))
	var sum int
	err := caller.Call(ctx, "IntSummator", "int_sum", SumArgs{A: 5, B: 18}, &sum)
	fmt.Println(sum, err)
	// Output: 23 <nil>
}
