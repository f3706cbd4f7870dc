package component_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/internal/testkit/testlog"
	"github.com/at-technology/atqueue/supervision"
	"github.com/at-technology/atqueue/wire"
)

type sumArgs struct {
	A int `json:"a"`
	B int `json:"b"`
}

func newSystem(t *testing.T, opts ...actors.Option) *actors.System {
	t.Helper()
	sys, err := actors.New(append([]actors.Option{actors.WithLogger(testlog.New(t))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sys.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := sys.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	return sys
}

func spawn(t *testing.T, sys *actors.System, def *component.Component) *component.Handle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h, err := sys.Spawn(ctx, def)
	if err != nil {
		t.Fatalf("spawn %s: %v", def.Name(), err)
	}
	return h
}

func summator(opts ...component.Option) *component.Component {
	c := component.New("IntSummator", opts...)
	component.Method(c, "int_sum", func(_ context.Context, in sumArgs) (int, error) { return in.A + in.B, nil })
	component.Method(c, "fail", func(_ context.Context, _ struct{}) (int, error) { return 0, errors.New("boom 7") })
	return c
}

// ctxT bounds a whole test: generously, since CI runs packages side by side on two cores.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestCallAndTypedErrors(t *testing.T) {
	sys := newSystem(t)
	spawn(t, sys, summator())
	req := spawn(t, sys, component.New("SumRequester"))
	ctx := ctxT(t)

	var sum int
	if err := req.Call(ctx, "IntSummator", "int_sum", sumArgs{5, 18}, &sum); err != nil || sum != 23 {
		t.Fatalf("int_sum(5, 18) = %d, %v", sum, err)
	}
	// Python's lax coercion: "2" is an integer.
	if err := req.Call(ctx, "IntSummator", "int_sum", map[string]any{"a": "2", "b": 3}, &sum); err != nil || sum != 5 {
		t.Fatalf(`int_sum("2", 3) = %d, %v`, sum, err)
	}

	cases := []struct {
		name     string
		receiver string
		method   string
		args     any
		kind     error
		text     string
	}{
		{"invalid argument", "IntSummator", "int_sum", map[string]any{"a": 5, "b": "b"}, component.ErrInvalidArguments, "value is not a valid integer"},
		{"missing argument", "IntSummator", "int_sum", map[string]any{"a": 5}, component.ErrInvalidArguments, "field required"},
		{"unknown method", "IntSummator", "no_such_method", nil, component.ErrUnknownMethod, "Avalible method names are: ['int_sum', 'fail']"},
		{"unknown component", "NoSuchComponent", "int_sum", nil, component.ErrUnknownComponent, `Component "NoSuchComponent" is not registered yet`},
		{"method error", "IntSummator", "fail", nil, component.ErrRemote, "boom 7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := req.Call(ctx, c.receiver, c.method, c.args, nil)
			if !errors.Is(err, c.kind) {
				t.Fatalf("err = %v, want %v", err, c.kind)
			}
			var re *component.RemoteError
			if !errors.As(err, &re) || !strings.Contains(wire.ErrorTexts(re.Items), c.text) {
				t.Fatalf("err = %v, want text %q", err, c.text)
			}
		})
	}
	// "argument" names the first input whatever failed, as Python does (spec quirk 10);
	// the failing argument is in the pydantic issues.
	err := req.Call(ctx, "IntSummator", "int_sum", map[string]any{"a": 5, "b": "b"}, nil)
	var re *component.RemoteError
	if !errors.As(err, &re) || re.Items[0].Argument != "a" || strings.Join(re.Items[0].Fields(), ",") != "b" ||
		re.Items[0].Summary() != "b: value is not a valid integer" {
		t.Fatalf("validation error = %#v", err)
	}
}

func TestCallTimeoutAndLateAnswer(t *testing.T) {
	sys := newSystem(t)
	release := make(chan struct{})
	slow := component.New("Slow")
	component.Method(slow, "wait", func(ctx context.Context, _ struct{}) (string, error) {
		select {
		case <-release:
			return "late", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	})
	spawn(t, sys, slow)
	req := spawn(t, sys, component.New("Caller", component.WithCallTimeout(50*time.Millisecond)))

	// No deadline on the context: the component's call timeout applies.
	err := req.Call(context.Background(), "Slow", "wait", nil, nil)
	if !errors.Is(err, component.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	close(release) // the late answer arrives and is dropped
	var s string
	if err := req.Call(ctxT(t), "Slow", "wait", nil, &s); err != nil || s != "late" {
		t.Fatalf("next call = %q, %v", s, err)
	}
}

// A panic in a method is that request's error: it is answered at once with
// ErrCrashed, and the component goes on serving without a restart (a request's input must
// not stop a component, as Python's answer an error and go on). Six panicking requests in
// a row, more than its restart intensity, change nothing.
func TestPanicIsTheRequestsError(t *testing.T) {
	sys := newSystem(t)
	var starts atomic.Int32
	policy := supervision.Policy{MaxRestarts: 1, Within: time.Minute}
	c := component.New("Flaky", component.WithPolicy(policy), component.OnStart(func(context.Context) error { starts.Add(1); return nil }))
	component.Method(c, "sum", func(_ context.Context, in sumArgs) (int, error) {
		if in.A < 0 {
			panic("negative input")
		}
		return in.A + in.B, nil
	})
	flaky := spawn(t, sys, c)
	req := spawn(t, sys, component.New("Caller"))
	ctx := ctxT(t)
	for i := range 6 {
		err := req.Call(ctx, "Flaky", "sum", sumArgs{-1, i}, nil)
		var re *component.RemoteError
		if !errors.Is(err, component.ErrCrashed) || !errors.As(err, &re) || !strings.Contains(re.Items[0].Text, "negative input") {
			t.Fatalf("panicking call %d: %v", i, err)
		}
	}
	var sum int
	if err := req.Call(ctx, "Flaky", "sum", sumArgs{1, 2}, &sum); err != nil || sum != 3 {
		t.Fatalf("after the panics: %d, %v", sum, err)
	}
	select {
	case <-flaky.Done():
		t.Fatal("the component stopped")
	default:
	}
	if n := starts.Load(); n != 1 {
		t.Fatalf("the component started %d times, want 1 (no restart)", n)
	}
}

// A method that says the component's own state is broken (ErrRestart) gets its caller a
// ComponentCrashedException, and the component is restarted: OnStart runs again, and it
// serves again with the same session.
func TestRestartRequestedByAMethod(t *testing.T) {
	sys := newSystem(t)
	started := make(chan struct{}, 10)
	var broken atomic.Bool
	broken.Store(true)
	c := component.New("Stateful", component.OnStart(func(context.Context) error {
		broken.Store(false)
		started <- struct{}{}
		return nil
	}))
	component.Method(c, "get", func(context.Context, struct{}) (int, error) {
		if broken.Load() {
			return 0, fmt.Errorf("%w: cache corrupt", component.ErrRestart)
		}
		return 7, nil
	})
	h := spawn(t, sys, c)
	<-started
	broken.Store(true)
	req := spawn(t, sys, component.New("Caller"))
	ctx := ctxT(t)
	if err := req.Call(ctx, "Stateful", "get", nil, nil); !errors.Is(err, component.ErrCrashed) {
		t.Fatalf("err = %v, want ErrCrashed", err)
	}
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("the component was not restarted")
	}
	var got int
	if err := req.Call(ctx, "Stateful", "get", nil, &got); err != nil || got != 7 {
		t.Fatalf("after the restart: %d, %v", got, err)
	}
	if h.SessionID() != wire.SessionID("Stateful") {
		t.Fatalf("session %s", h.SessionID())
	}
}

func TestIntensityExceededStopsAndDeregisters(t *testing.T) {
	sys := newSystem(t)
	policy := supervision.Policy{MaxRestarts: 2, Within: time.Minute, Backoff: supervision.Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond}}
	c := component.New("Doomed", component.WithPolicy(policy))
	component.Method(c, "crash", func(context.Context, struct{}) (int, error) { return 0, component.ErrRestart })
	doomed := spawn(t, sys, c)
	req := spawn(t, sys, component.New("Caller"))
	ctx := ctxT(t)
	for i := 0; i < 3; i++ {
		if err := req.Call(ctx, "Doomed", "crash", nil, nil); !errors.Is(err, component.ErrCrashed) {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	select {
	case <-doomed.Done():
	case <-ctx.Done():
		t.Fatal("the component was not stopped after exceeding its restart intensity")
	}
	// It left the registry: callers get "not registered" (poll: the unregister message is asynchronous).
	for {
		ok, err := req.CheckRegistered(ctx, "Doomed")
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("Doomed is still registered")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := req.Call(ctx, "Doomed", "crash", nil, nil); !errors.Is(err, component.ErrUnknownComponent) {
		t.Fatalf("err = %v, want ErrUnknownComponent", err)
	}
}

// A calls B, which calls back into A, while A's first method is still running.
func TestNestedCallsBothWays(t *testing.T) {
	sys := newSystem(t)
	a := component.New("A")
	component.Method(a, "start", func(ctx context.Context, in struct{ N int }) (int, error) {
		var out int
		err := component.FromContext(ctx).Call(ctx, "B", "relay", map[string]int{"N": in.N}, &out)
		return out, err
	})
	component.Method(a, "double", func(_ context.Context, in struct{ N int }) (int, error) { return 2 * in.N, nil })
	b := component.New("B")
	component.Method(b, "relay", func(ctx context.Context, in struct{ N int }) (int, error) {
		var out int
		err := component.FromContext(ctx).Call(ctx, "A", "double", map[string]int{"N": in.N}, &out)
		return out + 1, err
	})
	spawn(t, sys, a)
	spawn(t, sys, b)
	req := spawn(t, sys, component.New("Caller"))
	ctx := ctxT(t)
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		go func(n int) {
			var out int
			err := req.Call(ctx, "A", "start", map[string]int{"N": n}, &out)
			if err == nil && out != 2*n+1 {
				err = fmt.Errorf("start(%d) = %d", n, out)
			}
			errs <- err
		}(i)
	}
	for i := 0; i < 20; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuthorizedMethod(t *testing.T) {
	sys := newSystem(t)
	c := component.New("Vault")
	component.Method(c, "secret", func(ctx context.Context, in struct {
		X int `json:"x" default:"0"`
	}) (string, error) {
		return fmt.Sprintf("%s:%d", component.AuthToken(ctx), in.X), nil
	}, component.Authorized())
	spawn(t, sys, c)
	req := spawn(t, sys, component.New("Caller"))
	ctx := ctxT(t)

	err := req.Call(ctx, "Vault", "secret", map[string]int{"x": 1}, nil)
	var re *component.RemoteError
	if !errors.Is(err, component.ErrNotAuthorized) || !errors.As(err, &re) || re.Items[0].Text != "Missing auth_token argument to execute method Vault.secret" {
		t.Fatalf("without token: %v", err)
	}
	var s string
	if err := req.Call(ctx, "Vault", "secret", map[string]int{"x": 1}, &s, component.WithToken("tok123")); err != nil || s != "tok123:1" {
		t.Fatalf("header token: %q %v", s, err)
	}
	// An argument beats the header (spec §7.1 step 3).
	if err := req.Call(ctx, "Vault", "secret", map[string]any{"auth_token": "arg"}, &s, component.WithToken("hdr")); err != nil || s != "arg:0" {
		t.Fatalf("argument token: %q %v", s, err)
	}
	// The token is hidden from the registered inputs.
	raw, err := req.Inspect(ctx, "Vault")
	if err != nil || strings.Contains(string(raw), "auth_token") {
		t.Fatalf("inspect: %s %v", raw, err)
	}
}

func TestBuiltinsAndRegistryServices(t *testing.T) {
	sys := newSystem(t)
	var gotConfig, gotToken atomic.Value
	c := component.New("Configurable",
		component.OnConfigurate(func(_ context.Context, cfg json.RawMessage, token string) (any, error) {
			gotConfig.Store(string(cfg))
			gotToken.Store(token)
			return "configured", nil
		}),
		component.OnCheckConfigured(func(_ context.Context, token string) (bool, error) { return token == "ok", nil }))
	spawn(t, sys, c)
	spawn(t, sys, summator())
	req := spawn(t, sys, component.New("Caller"))
	ctx := ctxT(t)

	if err := req.Ping(ctx, "Configurable"); err != nil {
		t.Fatal(err)
	}
	res, err := req.Configurate(ctx, "Configurable", map[string]any{"param": map[string]any{"item_type": "raw_data", "data": 1}}, component.WithToken("tok"))
	if err != nil || string(res) != `"configured"` || gotToken.Load() != "tok" || !strings.Contains(gotConfig.Load().(string), "raw_data") {
		t.Fatalf("configurate: %s %v token=%v", res, err, gotToken.Load())
	}
	for tok, want := range map[string]bool{"ok": true, "other": false} {
		r, err := req.Request(ctx, "Configurable", wire.Object{{Key: "type", Value: "check_configured"}}, component.WithToken(tok))
		if err != nil || string(r.Result) != fmt.Sprint(want) {
			t.Fatalf("check_configured(%s) = %s %v", tok, r.Result, err)
		}
	}
	// Unknown types get an error answer instead of silence (spec §13.9).
	r, err := req.Request(ctx, "Configurable", wire.Object{{Key: "type", Value: "dance"}})
	if err != nil || !r.HasErrors || r.Errors[0].Type != component.ProcessMessageException {
		t.Fatalf("unknown type: %+v %v", r, err)
	}
	for name, want := range map[string]bool{"IntSummator": true, "Nobody": false} {
		if ok, err := req.CheckRegistered(ctx, name); err != nil || ok != want {
			t.Fatalf("check_registered(%s) = %v %v", name, ok, err)
		}
	}
	raw, err := req.Inspect(ctx, "IntSummator")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"broker":{"session_id":"3b77ae37-4633-3abc-8d5f-e38581de1aba"},"component":{"name":"IntSummator","description":null,"methods":{"int_sum":{"name":"int_sum","description":null,"inputs":{"a":{"name":"a","required":true,"schema":{"title":"A","type":"integer"},"strict_validation":false,"description":null},"b":{"name":"b","required":true,"schema":{"title":"B","type":"integer"},"strict_validation":false,"description":null}},"output":{"schema":{"title":"Result","type":"integer"},"strict_validation":false,"description":null}}`
	if compact := compactJSON(t, raw); !strings.HasPrefix(compact, want) {
		t.Fatalf("inspect:\n got %s\nwant %s...", compact, want)
	}
	if _, err := req.Inspect(ctx, "Nobody"); !errors.Is(err, component.ErrUnknownComponent) {
		t.Fatalf("inspect unknown: %v", err)
	}
	all, err := req.InspectAll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range []string{"Configurable", "IntSummator", "Caller"} {
		if i := strings.Index(string(all), `"`+n+`": {"broker"`); i >= 0 {
			names = append(names, n)
		}
	}
	if len(names) != 3 || strings.Index(string(all), `"Configurable"`) > strings.Index(string(all), `"Caller"`) {
		t.Fatalf("inspect_all lacks components or their registration order: %s", all)
	}
}

func TestReRegistrationKeepsOneSession(t *testing.T) {
	sys := newSystem(t)
	first := spawn(t, sys, summator())
	ctx := ctxT(t)
	if err := first.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	second := spawn(t, sys, summator())
	if first.SessionID() != second.SessionID() {
		t.Fatalf("session changed: %s -> %s", first.SessionID(), second.SessionID())
	}
	req := spawn(t, sys, component.New("Caller"))
	var sum int
	if err := req.Call(ctx, "IntSummator", "int_sum", sumArgs{1, 1}, &sum); err != nil || sum != 2 {
		t.Fatalf("after re-registration: %d %v", sum, err)
	}
}

func TestDefinitionErrors(t *testing.T) {
	sys := newSystem(t)
	c := component.New("Bad")
	component.Method(c, "ch", func(context.Context, struct{ C chan int }) (int, error) { return 0, nil })
	if _, err := sys.Spawn(ctxT(t), c); !errors.Is(err, component.ErrInvalidDefinition) {
		t.Fatalf("err = %v", err)
	}
	if _, err := sys.Spawn(ctxT(t), component.New("registry")); !errors.Is(err, component.ErrInvalidDefinition) {
		t.Fatalf("reserved name: %v", err)
	}
}

func TestRegistrationTimesOutWithoutRegistry(t *testing.T) {
	sys, err := actors.New()
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Shutdown(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := sys.Spawn(ctx, summator()); !errors.Is(err, component.ErrRegistration) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func compactJSON(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var b strings.Builder
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	var out []byte
	out, _ = json.Marshal(v)
	b.Write(out)
	return b.String()
}

// A second live component cannot take a name: the registry refuses it clearly.
func TestNameOfLiveComponentIsRefused(t *testing.T) {
	sys := newSystem(t)
	spawn(t, sys, summator())
	_, err := sys.Spawn(ctxT(t), summator())
	if !errors.Is(err, component.ErrRegistration) || !strings.Contains(err.Error(), "already registered and alive") {
		t.Fatalf("err = %v", err)
	}
	req := spawn(t, sys, component.New("Caller"))
	var sum int
	if err := req.Call(ctxT(t), "IntSummator", "int_sum", sumArgs{2, 2}, &sum); err != nil || sum != 4 {
		t.Fatalf("the first owner must keep serving: %d %v", sum, err)
	}
}

// A crash storm in one component does not disturb another (one-for-one): the neighbour
// answers every call while the storm runs, and the stormy one ends stopped and deregistered.
// Calls that reach it while it leaves the registry are answered at once, not at their
// deadline.
func TestCrashStormIsolated(t *testing.T) {
	sys := newSystem(t)
	policy := supervision.Policy{MaxRestarts: 5, Within: time.Minute, Backoff: supervision.Backoff{Initial: time.Millisecond, Max: 2 * time.Millisecond, Jitter: 0.5}}
	storm := component.New("Storm", component.WithPolicy(policy))
	component.Method(storm, "crash", func(context.Context, struct{}) (int, error) { return 0, component.ErrRestart })
	stormy := spawn(t, sys, storm)
	spawn(t, sys, summator())
	req := spawn(t, sys, component.New("Caller"))
	ctx := ctxT(t)

	stop := make(chan struct{})
	neighbour := make(chan error, 1)
	go func() {
		calls := 0
		for {
			select {
			case <-stop:
				if calls == 0 {
					neighbour <- errors.New("no call was made")
					return
				}
				neighbour <- nil
				return
			default:
			}
			var sum int
			if err := req.Call(ctx, "IntSummator", "int_sum", sumArgs{calls, 1}, &sum); err != nil || sum != calls+1 {
				neighbour <- fmt.Errorf("neighbour call %d: %d %v", calls, sum, err)
				return
			}
			calls++
		}
	}()
	crashes := 0
	for {
		err := req.Call(ctx, "Storm", "crash", nil, nil)
		if errors.Is(err, component.ErrUnknownComponent) || errors.Is(err, component.ErrNotAlive) {
			break
		}
		if !errors.Is(err, component.ErrCrashed) {
			t.Fatalf("storm call: %v", err)
		}
		crashes++
		if crashes > 50 {
			t.Fatal("the restart intensity was not applied")
		}
		select {
		case <-stormy.Done():
		default:
			continue
		}
		break
	}
	close(stop)
	if err := <-neighbour; err != nil {
		t.Fatal(err)
	}
	if crashes != policy.MaxRestarts+1 {
		t.Fatalf("%d crashes before the stop, want %d", crashes, policy.MaxRestarts+1)
	}
	select {
	case <-stormy.Done():
	case <-ctx.Done():
		t.Fatal("Storm was not stopped")
	}
}

// configurate with a token asks an AuthWorker, when one is registered, who the token
// belongs to (spec §7.2).
func TestConfigurateVerifiesTokenWithAuthWorker(t *testing.T) {
	sys := newSystem(t)
	var user atomic.Value
	c := component.New("Configurable", component.OnConfigurate(func(ctx context.Context, _ json.RawMessage, _ string) (any, error) {
		user.Store(string(component.User(ctx)))
		return true, nil
	}))
	spawn(t, sys, c)
	req := spawn(t, sys, component.New("Caller"))
	ctx := ctxT(t)
	cfg := map[string]any{"p": map[string]any{"item_type": "raw_data", "data": 1}}
	if _, err := req.Configurate(ctx, "Configurable", cfg, component.WithToken("tok")); err != nil || user.Load() != `"tok"` {
		t.Fatalf("without AuthWorker: user %v, %v", user.Load(), err)
	}
	auth := component.New(component.AuthWorkerName)
	component.Method(auth, "verify_token", func(_ context.Context, in struct {
		Token string `json:"token"`
	}) (int, error) {
		return len(in.Token) * 100, nil
	})
	spawn(t, sys, auth)
	if _, err := req.Configurate(ctx, "Configurable", cfg, component.WithToken("tok")); err != nil || user.Load() != `300` {
		t.Fatalf("with AuthWorker: user %v, %v", user.Load(), err)
	}
}
