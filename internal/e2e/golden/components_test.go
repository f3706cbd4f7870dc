package golden_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
	"sync"

	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/wire"
)

// Go mirrors of the Python components of the captured run. Their definitions follow the
// Python signatures (spec golden/README.md, register_request*.json), without descriptions,
// because Python always registers "description": null.

// sumArgs are Python's `a: int, b: int`: exact integers of any size.
type sumArgs struct {
	A big.Int `json:"a"`
	B big.Int `json:"b"`
}

// tokenLog records the tokens the hooks were given, to check how headers are read.
type tokenLog struct {
	mu   sync.Mutex
	seen map[string][]string // hook → tokens, in call order
}

func (l *tokenLog) add(hook, token string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string][]string{}
	}
	l.seen[hook] = append(l.seen[hook], token)
}

func (l *tokenLog) get(hook string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.seen[hook]...)
}

// intSummator mirrors
//
//	class IntSummator(ATComponent):
//	    @component_method
//	    def int_sum(self, a: int, b: int) -> int: return a + b
func intSummator(log *tokenLog) *component.Component {
	c := component.New(summatorName,
		// Default answers, recorded: the void header of check_external_configured must
		// arrive as "no token".
		component.OnCheckConfigured(func(_ context.Context, token string) (bool, error) {
			log.add("check_configured", token)
			return true, nil
		}))
	component.Method(c, "int_sum", func(_ context.Context, in sumArgs) (*big.Int, error) {
		return new(big.Int).Add(&in.A, &in.B), nil
	})
	return c
}

// Point mirrors the pydantic model `class Point(BaseModel): x: int; y: int = 0`.
type Point struct {
	X int `json:"x"`
	Y int `json:"y" default:"0"`
}

type echoArgs struct {
	Text  string    `json:"text"`
	Times int       `json:"times" default:"1"`
	Tags  *[]string `json:"tags"` // Optional[List[str]] = None
}

// echoResult is a Python dict result: a map, so that its schema is pydantic's `dict`
// ({"title": "Result", "type": "object"}), written with the keys in Python's insertion
// order. (A wire.Object result would be described as an array of "Field" models.)
type echoResult map[string]any

func (r echoResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(wire.Object{{Key: "text", Value: r["text"]}, {Key: "tags", Value: r["tags"]}})
}

type pointArgs struct {
	P Point `json:"p"`
}

type secretArgs struct {
	X int `json:"x" default:"0"`
}

// untypedArgs is `untyped(self, value, **extra)`: value is Any, and extra arguments are
// accepted (component.AllowExtra). The validated arguments, extras included, reach the
// method as one JSON object; a custom UnmarshalJSON keeps the extras.
type untypedArgs struct {
	Value any            `json:"value"`
	Extra map[string]any `json:"-"`
}

func (a *untypedArgs) UnmarshalJSON(b []byte) error {
	var all map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	a.Value = all["value"]
	delete(all, "value")
	a.Extra = all
	return nil
}

type whoamiArgs struct {
	Suffix    string `json:"suffix" default:""`
	AuthToken string `json:"auth_token"` // declared: hidden from the registered inputs
}

// probeTarget mirrors the ProbeTarget of the capture (register_request_probe_target.json):
//
//	async def async_echo(self, text: str, times: int = 1, tags: Optional[List[str]] = None) -> dict
//	def boom(self, x: int) -> int: raise ValueError(f"boom {x}")
//	def make_point(self, p: Point) -> Point: return Point(x=p.x + 1, y=p.y + 1)
//	def no_args(self) -> str: return "ok"
//	@authorized_method
//	def secret(self, x: int = 0) -> str
//	def untyped(self, value, **extra): return {"value": value, "extra": extra}
//	@authorized_method
//	def whoami(self, suffix: str = "", auth_token: str = ...) -> str: return f"token={auth_token}{suffix}"
//
// Methods are defined in the order Python lists them (alphabetical, from dir()).
func probeTarget(log *tokenLog) *component.Component {
	c := component.New(probeName,
		component.OnConfigurate(func(_ context.Context, _ json.RawMessage, token string) (any, error) {
			log.add("configurate", token)
			return true, nil
		}))
	component.Method(c, "async_echo", func(_ context.Context, in echoArgs) (echoResult, error) {
		var tags any
		if in.Tags != nil {
			tags = *in.Tags
		}
		return echoResult{"text": strings.Repeat(in.Text, in.Times), "tags": tags}, nil
	})
	component.Method(c, "boom", func(_ context.Context, in struct {
		X int `json:"x"`
	}) (int, error) {
		return 0, fmt.Errorf("boom %d", in.X)
	})
	component.Method(c, "make_point", func(_ context.Context, in pointArgs) (Point, error) {
		return Point{X: in.P.X + 1, Y: in.P.Y + 1}, nil
	})
	component.Method(c, "no_args", func(context.Context, struct{}) (string, error) {
		return "ok", nil
	})
	component.Method(c, "secret", func(ctx context.Context, in secretArgs) (string, error) {
		log.add("secret", component.AuthToken(ctx))
		return fmt.Sprintf("secret %d", in.X), nil
	}, component.Authorized())
	component.Method(c, "untyped", func(_ context.Context, in untypedArgs) (any, error) {
		extra := wire.Object{}
		for _, k := range slices.Sorted(maps.Keys(in.Extra)) {
			extra = append(extra, wire.Field{Key: k, Value: in.Extra[k]})
		}
		return wire.Object{{Key: "value", Value: in.Value}, {Key: "extra", Value: extra}}, nil
	}, component.AllowExtra())
	component.Method(c, "whoami", func(_ context.Context, in whoamiArgs) (string, error) {
		return "token=" + in.AuthToken + in.Suffix, nil
	}, component.Authorized())
	return c
}
