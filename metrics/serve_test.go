package metrics_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/at-technology/atqueue/actors"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/internal/testkit/proxy"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/metrics"
	"github.com/at-technology/atqueue/supervision"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds every wait of these tests; the registry checks queues every second.
const wait = 15 * time.Second

type sumArgs struct {
	A int `json:"a"`
	B int `json:"b"`
}

// scrape reads the samples at url: the series as the exposition writes it (name and
// labels) → value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scraping %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scraping %s: %s", url, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("a sample that does not parse: %q", line)
		}
		out[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// eventually scrapes url until series has a value for which ok holds, and returns it.
func eventually(t *testing.T, url, series string, ok func(float64) bool) float64 {
	t.Helper()
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		v, found := scrape(t, url)[series]
		if found && ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is %v (present: %v) after %v", series, v, found, wait)
		}
		<-tick.C
	}
}

func atLeast(n float64) func(float64) bool { return func(v float64) bool { return v >= n } }

// system starts an in-process System counting into m, with its registry and a caller.
// Calls take the registry's route, which is what the registry's collectors count.
func system(t *testing.T, m *metrics.Metrics, defs ...*component.Component) (*actors.System, *component.Handle) {
	t.Helper()
	sys, err := actors.New(actors.WithMetrics(m), actors.WithDirectCalls(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := sys.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := sys.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	for _, def := range defs {
		if _, err := sys.Spawn(ctx, def); err != nil {
			t.Fatal(err)
		}
	}
	caller, err := sys.Spawn(ctx, component.New("Caller"))
	if err != nil {
		t.Fatal(err)
	}
	return sys, caller
}

func serve(t *testing.T, m *metrics.Metrics) *metrics.Server {
	t.Helper()
	srv, err := m.Serve(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return srv
}

func summator() *component.Component {
	c := component.New("IntSummator")
	component.Method(c, "int_sum", func(_ context.Context, in sumArgs) (int, error) { return in.A + in.B, nil })
	return c
}

// A process that is not the registry serves its collectors with Serve, and a call moves
// the counters of its caller and of the registry.
func TestServeShowsACallCounted(t *testing.T) {
	m := metrics.New()
	_, caller := system(t, m, summator())
	srv := serve(t, m)
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") || !strings.HasSuffix(srv.URL(), "/metrics") {
		t.Errorf("URL %q", srv.URL())
	}
	const (
		e2e    = `atq_call_seconds_count{method="int_sum",outcome="ok",receiver="IntSummator"}`
		routed = `atq_registry_calls_routed_total{method="int_sum",receiver="IntSummator"}`
		bad    = `atq_registry_call_outcomes_total{method="int_sum",outcome="invalid arguments",receiver="IntSummator"}`
	)
	// The registry sets its gauges at each liveness check (every second).
	eventually(t, srv.URL(), "atq_registry_components", func(v float64) bool { return v == 2 })
	before := scrape(t, srv.URL())
	if before[e2e] != 0 || before[routed] != 0 || before["go_goroutines"] == 0 {
		t.Errorf("before any call: %s=%v %s=%v go_goroutines=%v", e2e, before[e2e], routed, before[routed], before["go_goroutines"])
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var sum int
	if err := caller.Call(ctx, "IntSummator", "int_sum", sumArgs{A: 5, B: 18}, &sum); err != nil || sum != 23 {
		t.Fatalf("int_sum: %d %v", sum, err)
	}
	if err := caller.Call(ctx, "IntSummator", "int_sum", map[string]any{"a": 5, "b": "b"}, nil); !errors.Is(err, component.ErrInvalidArguments) {
		t.Fatalf("int_sum(b=\"b\"): %v", err)
	}
	after := scrape(t, srv.URL())
	for series, want := range map[string]float64{e2e: 1, routed: 2, bad: 1} {
		if after[series] != want {
			t.Errorf("%s = %v after the calls, want %v", series, after[series], want)
		}
	}
	if resp, err := http.Get(strings.TrimSuffix(srv.URL(), "metrics")); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET / : %v %v, want 404", resp, err)
	} else {
		resp.Body.Close()
	}
}

// Requests a component has not taken yet wait in its queue: the caller's pending calls,
// the registry's calls in flight and the queue's depth all show them.
func TestInFlightAndQueueDepth(t *testing.T) {
	m := metrics.New()
	release := make(chan struct{})
	slow := component.New("Slow", component.WithPrefetch(1))
	component.Method(slow, "hold", func(ctx context.Context, _ struct{}) (bool, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return true, nil
	})
	_, caller := system(t, m, slow)
	srv := serve(t, m)
	var futures []*component.Future
	for range 3 {
		f, err := caller.Send("Slow", map[string]any{"type": "exec_method", "method": "hold", "args": map[string]any{}})
		if err != nil {
			t.Fatal(err)
		}
		futures = append(futures, f)
	}
	eventually(t, srv.URL(), `atq_calls_pending{component="Caller"}`, atLeast(3))
	eventually(t, srv.URL(), "atq_registry_calls_in_flight", atLeast(3))
	eventually(t, srv.URL(), `atq_queue_messages{component="Slow"}`, atLeast(1)) // one is held, with prefetch 1
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for _, f := range futures {
		if rep, err := f.Wait(ctx); err != nil || rep.HasErrors {
			t.Fatalf("hold: %+v %v", rep.Errors, err)
		}
	}
	eventually(t, srv.URL(), `atq_calls_pending{component="Caller"}`, func(v float64) bool { return v == 0 })
	eventually(t, srv.URL(), "atq_registry_calls_in_flight", func(v float64) bool { return v == 0 })
	eventually(t, srv.URL(), `atq_queue_messages{component="Slow"}`, func(v float64) bool { return v == 0 })
}

// A supervisor's restart and its stop for good are counted per actor.
func TestSupervisorsAreCounted(t *testing.T) {
	m := metrics.New()
	broken := func(name string, p supervision.Policy) *component.Component {
		c := component.New(name, component.WithPolicy(p))
		component.Method(c, "fail", func(context.Context, struct{}) (*big.Int, error) {
			return nil, fmt.Errorf("%w: broken on purpose", component.ErrRestart)
		})
		return c
	}
	restarts := supervision.DefaultPolicy()
	_, caller := system(t, m, broken("Restarts", restarts), broken("Stops", supervision.Policy{}))
	srv := serve(t, m)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for _, name := range []string{"Restarts", "Stops"} {
		if err := caller.Call(ctx, name, "fail", struct{}{}, nil); !errors.Is(err, component.ErrCrashed) {
			t.Fatalf("%s.fail: %v, want ErrCrashed", name, err)
		}
	}
	eventually(t, srv.URL(), `atq_supervisor_restarts_total{actor="Restarts"}`, atLeast(1))
	eventually(t, srv.URL(), `atq_supervisor_stops_total{actor="Stops"}`, atLeast(1))
	if v, ok := scrape(t, srv.URL())[`atq_supervisor_stops_total{actor="Restarts"}`]; ok && v != 0 {
		t.Errorf("Restarts was stopped for good after one failure: %v", v)
	}
}

// A connection to RabbitMQ that is cut and restored is counted.
func TestReconnectIsCounted(t *testing.T) {
	url := rabbittest.VHost(t)
	px := proxy.New(t, url)
	m := metrics.New()
	sys, err := actors.New(actors.WithBroker(amqpbridge.NewBroker(px.URL())), actors.WithMetrics(m))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := sys.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	srv := serve(t, m)
	if v := scrape(t, srv.URL())["atq_bridge_reconnects_total"]; v != 0 {
		t.Fatalf("atq_bridge_reconnects_total = %v before any cut", v)
	}
	if px.Cut() == 0 {
		t.Fatal("the proxy relayed no connection")
	}
	eventually(t, srv.URL(), "atq_bridge_reconnects_total", atLeast(1))
}

// Serve binds its address at once: a taken port is its error. The Server stops when its
// context ends.
func TestServeAddressAndContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	m := metrics.New()
	if srv, err := m.Serve(context.Background(), ln.Addr().String()); !errors.Is(err, metrics.ErrServe) {
		if srv != nil {
			srv.Close()
		}
		t.Errorf("a taken address: %v, want ErrServe", err)
	}
	var none *metrics.Metrics
	if _, err := none.Serve(context.Background(), "127.0.0.1:0"); !errors.Is(err, metrics.ErrServe) {
		t.Errorf("a nil Metrics: %v, want ErrServe", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	srv, err := m.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	scrape(t, srv.URL())
	cancel()
	select {
	case <-srv.Done():
	case <-time.After(wait):
		t.Fatalf("still serving %v after its context ended", wait)
	}
	if c, err := net.DialTimeout("tcp", srv.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Errorf("still listening after Done")
	}
	if err := srv.Close(); err != nil {
		t.Errorf("Close after the context ended: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
}
