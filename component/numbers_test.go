package component_test

import (
	"context"
	"errors"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/internal/testkit/testlog"
	"github.com/at-technology/atqueue/wire"
)

type bigSumArgs struct {
	A big.Int `json:"a"`
	B big.Int `json:"b"`
}

type narrowArgs struct {
	Small int8    `json:"small"`
	Ratio float32 `json:"ratio" default:"1"`
}

// numbers is a component whose methods take and give what a Python peer sends: exact
// integers of any size and non-finite floats.
func numbers() *component.Component {
	c := component.New("Numbers")
	component.Method(c, "big_sum", func(_ context.Context, in bigSumArgs) (*big.Int, error) {
		return new(big.Int).Add(&in.A, &in.B), nil
	})
	component.Method(c, "half", func(_ context.Context, in struct {
		X float64 `json:"x"`
	}) (float64, error) {
		return in.X / 2, nil
	})
	component.Method(c, "specials", func(context.Context, struct{}) (map[string]any, error) {
		return map[string]any{"nan": math.NaN(), "inf": []float64{math.Inf(1), math.Inf(-1)}}, nil
	})
	component.Method(c, "narrow", func(_ context.Context, in narrowArgs) (int, error) { return int(in.Small), nil })
	component.Method(c, "none", func(context.Context, struct{}) (int, error) { return 0, nil })
	return c
}

// Go to Go over the in-process transport: the same envelopes as over RabbitMQ.
func TestNumbersBetweenGoComponents(t *testing.T) {
	sys := newSystem(t)
	spawn(t, sys, numbers())
	req := spawn(t, sys, component.New("Caller"))
	ctx := ctxT(t)

	var half float64
	if err := req.Call(ctx, "Numbers", "half", map[string]float64{"x": math.Inf(-1)}, &half); err != nil || !math.IsInf(half, -1) {
		t.Fatalf("half(-inf) = %v, %v", half, err)
	}
	if err := req.Call(ctx, "Numbers", "half", map[string]float64{"x": math.NaN()}, &half); err != nil || !math.IsNaN(half) {
		t.Fatalf("half(nan) = %v, %v", half, err)
	}
	var specials struct {
		NaN float64    `json:"nan"`
		Inf [2]float32 `json:"inf"`
	}
	if err := req.Call(ctx, "Numbers", "specials", nil, &specials); err != nil || !math.IsNaN(specials.NaN) ||
		!math.IsInf(float64(specials.Inf[0]), 1) || !math.IsInf(float64(specials.Inf[1]), -1) {
		t.Fatalf("specials = %+v, %v", specials, err)
	}
	max := new(big.Int).SetUint64(math.MaxInt64)
	var sum *big.Int
	if err := req.Call(ctx, "Numbers", "big_sum", map[string]any{"a": max, "b": 1}, &sum); err != nil || sum.String() != "9223372036854775808" {
		t.Fatalf("big_sum = %v, %v", sum, err)
	}
	// A result beyond the caller's type is an error, never a wrapped number.
	var small int64
	if err := req.Call(ctx, "Numbers", "big_sum", map[string]any{"a": max, "b": 1}, &small); !errors.Is(err, component.ErrBadAnswer) {
		t.Fatalf("int64 result = %d, %v", small, err)
	}
	err := req.Call(ctx, "Numbers", "narrow", map[string]any{"ratio": 1e39, "small": 128}, nil)
	var re *component.RemoteError
	if !errors.As(err, &re) || !errors.Is(err, component.ErrInvalidArguments) {
		t.Fatalf("narrow = %v", err)
	}
	if it := re.Items[0]; it.Argument != "small" || strings.Join(it.Fields(), ",") != "small,ratio" ||
		it.Summary() != "small: ensure this value is less than or equal to 127; ratio: ensure this value is less than or equal to 3.4028234663852886e+38" {
		t.Fatalf("argument %q, fields %q, summary %q", it.Argument, it.Fields(), it.Summary())
	}
}

// Raw answers as a Python caller reads them: non-finite floats as Python writes them, and
// "argument" as Python fills it (null for a method without inputs).
func TestNumbersOnTheWire(t *testing.T) {
	rec, sys := recordedSystem(t, actors.WithLogger(testlog.New(t)))
	target := spawn(t, sys, numbers())
	rec.watchAnswers(target.Name())
	cases := []struct {
		name, message, want string
	}{
		{"Infinity in", `{"type": "exec_method", "method": "half", "args": {"x": -Infinity}}`, `{"type": "method_result", "result": -Infinity}`},
		{"1e400 is inf", `{"type": "exec_method", "method": "half", "args": {"x": 1e400}}`, `{"type": "method_result", "result": Infinity}`},
		{"NaN out", `{"type": "exec_method", "method": "specials", "args": {}}`, `{"type": "method_result", "result": {"inf": [Infinity, -Infinity], "nan": NaN}}`},
		{"big integers", `{"type": "exec_method", "method": "big_sum", "args": {"a": 9223372036854775807, "b": "1_000"}}`, `{"type": "method_result", "result": 9223372036854776807}`},
		{"argument of a method without inputs", `{"type": "exec_method", "method": "none", "args": {"x": NaN}}`, `"method": "none", "argument": null}]}`},
		{"argument is the first input", `{"type": "exec_method", "method": "big_sum", "args": {"a": 1, "b": 2.5}}`, `"method": "big_sum", "argument": "a"}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := "n-" + c.name
			rec.Embedded.Publish(wire.RecieveQueue(target.SessionID()), []byte(`{"sender": "Prober", "reciever": "Numbers", "message": `+c.message+`, "message_id": "`+id+`", "answer_to": null}`), nil, nil)
			for {
				select {
				case b := <-rec.got:
					e, err := wire.Decode(b, 0)
					if err != nil || e.AnswerTo != id {
						continue
					}
					if !strings.HasSuffix(string(e.Message), c.want) {
						t.Fatalf("answer %s, want it to end with %s", e.Message, c.want)
					}
					return
				case <-time.After(10 * time.Second):
					t.Fatal("no answer")
				}
			}
		})
	}
}
