package component_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/component"
)

// A method calls another component through the handle its context carries; errors are
// typed.
func ExampleFromContext() {
	ctx := context.Background()
	sys, _ := actors.New()
	defer sys.Shutdown(ctx)
	sys.StartRegistry(ctx)

	type Args struct {
		N int `json:"n" desc:"a number"`
	}
	doubler := component.New("Doubler")
	component.Method(doubler, "double", func(_ context.Context, in Args) (int, error) { return 2 * in.N, nil })
	quad := component.New("Quadrupler")
	component.Method(quad, "quadruple", func(ctx context.Context, in Args) (int, error) {
		var twice int
		err := component.FromContext(ctx).Call(ctx, "Doubler", "double", in, &twice)
		return 2 * twice, err
	})
	sys.Spawn(ctx, doubler)
	sys.Spawn(ctx, quad)
	caller, _ := sys.Spawn(ctx, component.New("Caller"))

	var out int
	err := caller.Call(ctx, "Quadrupler", "quadruple", Args{N: 5}, &out)
	fmt.Println(out, err)
	err = caller.Call(ctx, "Quadrupler", "quadruple", map[string]any{"n": "five"}, &out)
	fmt.Println(errors.Is(err, component.ErrInvalidArguments))
	// Output:
	// 20 <nil>
	// true
}

// An authorized method needs the caller's token, which it reads from its context.
func ExampleAuthorized() {
	ctx := context.Background()
	sys, _ := actors.New()
	defer sys.Shutdown(ctx)
	sys.StartRegistry(ctx)

	vault := component.New("Vault")
	component.Method(vault, "whoami", func(ctx context.Context, _ struct{}) (string, error) {
		return "token " + component.AuthToken(ctx), nil
	}, component.Authorized())
	sys.Spawn(ctx, vault)
	caller, _ := sys.Spawn(ctx, component.New("Caller"))

	var s string
	err := caller.Call(ctx, "Vault", "whoami", nil, &s)
	fmt.Println(errors.Is(err, component.ErrNotAuthorized))
	err = caller.Call(ctx, "Vault", "whoami", nil, &s, component.WithToken("tok123"))
	fmt.Println(s, err)
	// Output:
	// true
	// token tok123 <nil>
}
