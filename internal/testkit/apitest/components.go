package apitest

import (
	"context"

	"github.com/at-technology/atqueue/component"
)

// SumArgs are the arguments of IntSummator.int_sum.
type SumArgs struct {
	A int `json:"a"`
	B int `json:"b"`
}

// IntSummator mirrors the Python IntSummator of the captured run (int_sum(a: int, b: int)
// -> int, no descriptions), so that its answers compare with the golden ones.
func IntSummator() *component.Component {
	c := component.New("IntSummator")
	component.Method(c, "int_sum", func(_ context.Context, in SumArgs) (int, error) {
		return in.A + in.B, nil
	})
	return c
}

// Mute is the name of the component Silent defines.
const Mute = "Mute"

// Silent defines Mute, whose method hang never answers: it returns only when the
// component stops. Each call sends on started, when not nil, as it begins.
func Silent(started chan<- struct{}) *component.Component {
	c := component.New(Mute)
	component.Method(c, "hang", func(ctx context.Context, _ struct{}) (int, error) {
		if started != nil {
			select {
			case started <- struct{}{}:
			case <-ctx.Done():
			}
		}
		<-ctx.Done()
		return 0, ctx.Err()
	})
	return c
}

// TokenArgs are the arguments of Guard.whoami.
type TokenArgs struct {
	AuthToken string `json:"auth_token"`
}

// Guard defines Guard, whose authorized method whoami returns the auth_token it was
// called with (the AMQP header, passed as the argument) and add(a, b) returns a + b.
func Guard() *component.Component {
	c := component.New("Guard")
	component.Method(c, "whoami", func(_ context.Context, in TokenArgs) (string, error) {
		return in.AuthToken, nil
	}, component.Authorized())
	component.Method(c, "add", func(_ context.Context, in SumArgs) (int, error) {
		return in.A + in.B, nil
	}, component.Authorized())
	return c
}
