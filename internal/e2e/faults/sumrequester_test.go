package faults_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/internal/testkit/proctest"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/internal/testkit/testlog"
	"github.com/at-technology/atqueue/wire"
)

// retried is what examples/sumrequester (internal/bench's requester, given --retry) logs
// for each try it repeats.
const retried = "call failed, retrying"

// seed is the seed example's registry and IntSummator as processes on one broker URL.
type seed struct {
	t   *testing.T
	url string
	reg *proctest.Proc
	sum *proctest.Proc
}

func startSeed(t *testing.T, url string) *seed {
	t.Helper()
	s := &seed{t: t, url: url}
	s.reg = start(t, "atq", "registry", "-u", url, "--state", filepath.Join(t.TempDir(), "registry.json"), "--pidfile", "", "--debugger=false")
	s.reg.WaitLine("registry listening", ready)
	s.startSummator()
	return s
}

func (s *seed) startSummator() {
	s.t.Helper()
	s.sum = start(s.t, "intsummator", "--amqp", s.url)
	s.sum.WaitLine("IntSummator registered", ready)
}

// bench runs sumrequester --bench n --concurrency 16 --retry, calls first once it has
// registered (the warm-up or the serial run is starting) and second once it has printed
// the serial run's line (the concurrent run is starting), and requires both JSON lines to
// say errors 0 and the program to exit 0. Each fault must be over before the run it was
// meant for has ended, or it proved nothing.
func (s *seed) bench(n int, first, second func(req *proctest.Proc)) {
	t := s.t
	t.Helper()
	req := start(t, "sumrequester", "--amqp", s.url, "--bench", strconv.Itoa(n), "--concurrency", "16", "--retry", "--timeout", "20s")
	req.WaitLine("SumRequester registered", ready)
	first(req)
	if strings.Contains(req.Stdout(), `{"mode": "serial"`) {
		t.Errorf("the serial run ended before the first fault was over: the fault did not hit it")
	}
	req.WaitLine(`{"mode": "serial"`, 45*time.Second)
	second(req)
	if strings.Contains(req.Stdout(), `{"mode": "concurrent`) {
		t.Errorf("the concurrent run ended before the second fault was over: the fault did not hit it")
	}
	code := req.Wait(45 * time.Second)

	type stats struct {
		Mode   string `json:"mode"`
		Calls  int    `json:"calls"`
		Errors *int   `json:"errors"`
	}
	var got []stats
	for _, l := range strings.Split(req.Stdout(), "\n") {
		if !strings.HasPrefix(l, "{") {
			continue
		}
		t.Log(l)
		var st stats
		if err := json.Unmarshal([]byte(l), &st); err != nil {
			t.Fatalf("not JSON: %q: %v", l, err)
		}
		got = append(got, st)
	}
	for _, l := range strings.Split(req.Stderr(), "\n") {
		if strings.Contains(l, "benchmark done") || strings.Contains(l, "warm-up calls failed") {
			t.Log(l)
		}
	}
	if code != 0 {
		t.Errorf("sumrequester exited with status %d\nstderr (tail):\n%s", code, proctest.Tail(req.Stderr(), 20))
	}
	want := []stats{{Mode: "serial", Calls: n}, {Mode: "concurrent16", Calls: 2 * n}}
	if len(got) != len(want) {
		t.Fatalf("want %d JSON lines, got %d:\n%s", len(want), len(got), req.Stdout())
	}
	for i, w := range want {
		if st := got[i]; st.Mode != w.Mode || st.Calls != w.Calls || st.Errors == nil || *st.Errors != 0 {
			t.Errorf("line %d: %+v, want mode %s, %d calls, errors 0", i+1, st, w.Mode, w.Calls)
		}
	}
	if code := s.sum.Stop(syscall.SIGTERM, stopped); code != 0 {
		t.Errorf("intsummator exited with status %d after SIGTERM\nstderr (tail):\n%s", code, proctest.Tail(s.sum.Stderr(), 15))
	}
	if code := s.reg.Stop(syscall.SIGTERM, stopped); code != 0 {
		t.Errorf("registry exited with status %d after SIGTERM\nstderr (tail):\n%s", code, proctest.Tail(s.reg.Stderr(), 15))
	}
}

// examples/sumrequester --bench --retry keeps working while the IntSummator process is
// killed and started again, twice: as the warm-up or serial run begins (restarted at
// once: the requests wait in its queue) and as the concurrent run begins (restarted only
// once the requester has seen a try time out, so that the retry path is taken within a
// reported run).
func TestSumRequesterComponentRestart(t *testing.T) {
	t.Parallel()
	s := startSeed(t, rabbittest.VHost(t))
	ctx, cancel := context.WithTimeout(context.Background(), ready)
	defer cancel()
	probe, err := amqpbridge.Dial(ctx, s.url, amqpbridge.WithLogger(testlog.New(t, testlog.WithLevel(slog.LevelWarn), testlog.WithPrefix("probe"))), amqpbridge.WithConnectionName("faults-probe"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = probe.Close() })
	queue := wire.RecieveQueue(wire.SessionID("IntSummator"))

	s.bench(200, func(*proctest.Proc) {
		s.sum.Kill(stopped)
		waitNoConsumer(t, probe, queue)
		s.startSummator()
		t.Log("IntSummator killed as the warm-up or serial run began, and restarted at once")
	}, func(req *proctest.Proc) {
		s.sum.Kill(stopped)
		req.WaitStderr(retried, strings.Count(req.Stderr(), retried), 10*time.Second)
		waitNoConsumer(t, probe, queue)
		s.startSummator()
		t.Log("IntSummator killed as the concurrent run began, and restarted once the requester had retried")
	})
}

// examples/sumrequester --bench --retry keeps working while the RabbitMQ application of
// a node of the test's own is stopped and started again, as the warm-up or serial run
// begins and as the concurrent run begins: every connection drops and what was queued
// is lost, so calls must be sent again.
//
// stop_app takes one to three seconds to close the connections, longer than a run of a
// few hundred calls lasts. So that the fault certainly lands inside the run, the
// IntSummator is frozen (SIGSTOP) from the start of each fault until the broker is back:
// the calls in flight then wait for it and are lost with the broker's queues.
func TestSumRequesterBrokerRestart(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	s := startSeed(t, n.url)
	restart := func(*proctest.Proc) {
		s.sum.Signal(syscall.SIGSTOP) // frozen: it keeps its connections but answers nothing
		n.mustCtl("stop_app")
		n.mustCtl("start_app")
		s.sum.Signal(syscall.SIGCONT)
	}
	s.bench(200, restart, restart)
}

// waitNoConsumer waits until the broker has noticed that a killed component's consumer
// is gone, so that the registry takes the new process's registration at once instead of
// refusing it as a second live owner of the name.
func waitNoConsumer(t *testing.T, tr *amqpbridge.Transport, queue string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		n, err := tr.Consumers(ctx, queue)
		if err == nil && n == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s still has %d consumers (err %v) after its component was killed", queue, n, err)
		case <-tick.C:
		}
	}
}
