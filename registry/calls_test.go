package registry_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/metrics"
	"github.com/at-technology/atqueue/registry"
	"github.com/at-technology/atqueue/wire"
)

// The registry follows the calls it routes: a watcher gets each call as it ends (answered
// by its receiver, or by the registry itself), and the metrics count them. Here every
// call takes the registry's route (direct calls are off).
func TestCallsAreWatchedAndCounted(t *testing.T) {
	m := metrics.New()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f := newCallsFixture(t, ctx, actors.WithMetrics(m), actors.WithDirectCalls(false))
	events, caller := f.watch(), f.caller
	if err := caller.Call(ctx, "IntSummator", "int_sum", sumArgs{2, 3}, nil); err != nil {
		t.Fatal(err)
	}
	if err := caller.Call(ctx, "IntSummator", "int_sum", map[string]any{"a": 1, "b": "x"}, nil); !errors.Is(err, component.ErrInvalidArguments) {
		t.Fatal(err)
	}
	if err := caller.Call(ctx, "Nobody", "int_sum", nil, nil); !errors.Is(err, component.ErrUnknownComponent) {
		t.Fatal(err)
	}
	next := func() *wire.CallEvent {
		t.Helper()
		for {
			select {
			case ev := <-events:
				if ev.From == "Caller" {
					return ev
				}
			case <-ctx.Done():
				t.Fatal("no call event")
			}
		}
	}
	for _, want := range []struct{ to, method, outcome, err string }{
		{"IntSummator", "int_sum", "ok", ""},
		{"IntSummator", "int_sum", "invalid arguments", "b: value is not a valid integer"},
		{"unknown", "unknown", "unknown component", `Component "Nobody" is not registered yet`},
	} {
		ev := next()
		if ev.To != want.to || ev.Method != want.method || ev.Outcome != want.outcome || ev.Error != want.err || ev.MessageID == "" {
			t.Errorf("event %+v, want to=%s method=%s outcome=%s error=%q", ev, want.to, want.method, want.outcome, want.err)
		}
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"atq_registry_calls_routed_total", []string{`receiver="IntSummator"`, `method="int_sum"`}, 2},
		{"atq_registry_call_outcomes_total", []string{`receiver="IntSummator"`, `outcome="invalid arguments"`}, 1},
		{"atq_registry_call_seconds", []string{`receiver="IntSummator"`}, 2},
		{"atq_call_seconds", []string{`receiver="IntSummator"`, `outcome="ok"`}, 1}, // the caller's side
		{"atq_call_seconds", []string{`receiver="Nobody"`, `outcome="unknown component"`}, 1},
	} {
		if n := metricValue(t, m, c.name, c.labels...); n != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, n, c.want)
		}
	}
}

// Calls between Go components go directly, not through the registry; the caller reports
// them, and the registry's watchers and metrics see them as calls it routed, marked
// direct, with the caller's latency and no registry hop.
func TestDirectCallsAreReported(t *testing.T) {
	m := metrics.New()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f := newCallsFixture(t, ctx, actors.WithMetrics(m))
	events, caller := f.watch(), f.caller
	// The first call subscribes the caller to the directory and takes the registry's
	// route. The whole directory is the subscription's answer, which reaches the caller
	// before the answer to a request it sends later: after Directory, calls go directly.
	f.sum(t, ctx)
	if _, err := caller.Directory(ctx); err != nil {
		t.Fatal(err)
	}
	f.sum(t, ctx)
	var direct *wire.CallEvent
	for direct == nil {
		select {
		case ev := <-events:
			if ev.Direct {
				direct = ev
			}
		case <-ctx.Done():
			t.Fatal("no direct call was reported")
		}
	}
	if direct.From != "Caller" || direct.To != "IntSummator" || direct.Method != "int_sum" || direct.Outcome != "ok" || direct.Ms <= 0 || direct.MessageID == "" {
		t.Errorf("reported call %+v", direct)
	}
	routed := metricValue(t, m, "atq_registry_calls_routed_total", `receiver="IntSummator"`, `method="int_sum"`)
	hops := metricValue(t, m, "atq_registry_call_seconds", `receiver="IntSummator"`)
	if routed <= hops {
		t.Errorf("calls counted %v, registry hops %v: the direct calls should count without a hop", routed, hops)
	}
}

// Callers report their direct calls only while the registry wants them: without
// metrics and watchers it does not; a watcher that comes later gets the next ones.
func TestDirectCallsReportedOnceWatched(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f := newCallsFixture(t, ctx)
	caller := f.caller
	f.sum(t, ctx)
	if _, err := caller.Directory(ctx); err != nil { // the directory has come: calls go directly
		t.Fatal(err)
	}
	f.sum(t, ctx) // direct, not reported: nobody watches
	events := f.watch()
	// The registry tells its followers it wants reports now; that reaches the caller
	// before the answer to its next request.
	if _, err := caller.Directory(ctx); err != nil {
		t.Fatal(err)
	}
	f.sum(t, ctx)
	select {
	case ev := <-events:
		if !ev.Direct || ev.From != "Caller" || ev.To != "IntSummator" {
			t.Fatalf("event %+v, want the direct call made once watched", ev)
		}
	case <-ctx.Done():
		t.Fatal("the direct call made once watched was not reported")
	}
	select {
	case ev := <-events:
		t.Fatalf("a second event %+v: the direct call made before the watcher came was reported", ev)
	default:
	}
}

// callsFixture is a process with a registry, an IntSummator and a Caller.
type callsFixture struct {
	sys    *actors.System
	reg    *actor.PID
	caller *component.Handle
}

func newCallsFixture(t *testing.T, ctx context.Context, opts ...actors.Option) *callsFixture {
	t.Helper()
	sys, err := actors.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Shutdown(context.Background()) })
	reg, err := sys.StartRegistry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Spawn(ctx, summator()); err != nil {
		t.Fatal(err)
	}
	caller, err := sys.Spawn(ctx, component.New("Caller"))
	if err != nil {
		t.Fatal(err)
	}
	return &callsFixture{sys: sys, reg: reg, caller: caller}
}

// watch subscribes an in-process watcher to the registry's calls.
func (f *callsFixture) watch() <-chan *wire.CallEvent {
	events := make(chan *wire.CallEvent, 64)
	watcher := f.sys.Root().Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if ev, ok := c.Message().(*wire.CallEvent); ok {
			events <- ev
		}
	}))
	f.sys.Root().RequestWithCustomSender(f.reg, &registry.Watch{}, watcher)
	return events
}

// sum calls IntSummator.int_sum(2, 3).
func (f *callsFixture) sum(t *testing.T, ctx context.Context) {
	t.Helper()
	var got int
	if err := f.caller.Call(ctx, "IntSummator", "int_sum", sumArgs{2, 3}, &got); err != nil || got != 5 {
		t.Fatalf("call: %d %v", got, err)
	}
}

// metricValue reads a metric's value by its name and label pairs from m's exposition.
func metricValue(t *testing.T, m *metrics.Metrics, name string, labels ...string) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, mt := range f.GetMetric() {
			var pairs []string
			for _, l := range mt.GetLabel() {
				pairs = append(pairs, l.GetName()+`="`+l.GetValue()+`"`)
			}
			for _, want := range labels {
				if !strings.Contains(strings.Join(pairs, ","), want) {
					continue next
				}
			}
			if c := mt.GetCounter(); c != nil {
				return c.GetValue()
			}
			if h := mt.GetHistogram(); h != nil {
				return float64(h.GetSampleCount())
			}
			return mt.GetGauge().GetValue()
		}
	}
	return 0
}
