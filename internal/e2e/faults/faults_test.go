package faults_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/at-technology/atqueue/internal/testkit/proctest"
	"github.com/at-technology/atqueue/internal/testkit/proxy"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/wire"
)

// The load runs until answersBeforeFault calls have been answered, then the fault is
// injected while it keeps running, then it runs until answersAfterFault more have been
// answered (within recoverWithin), then it drains: the calls in flight are retried until
// they are answered.
const (
	answersBeforeFault = 500
	answersAfterFault  = 1000
	recoverWithin      = 60 * time.Second
	// hold is how long the Counter waits between recording an execution and answering:
	// it widens the window in which a fault leaves an executed request unacknowledged,
	// so that redelivery after a fault is exercised, not left to chance.
	hold = 10 * time.Millisecond
	// prefetch bounds the requests the Counter takes at once: with 64 in flight most of
	// them wait in its queue in the broker, where a broker restart loses them and a
	// restarted Counter finds them.
	prefetch = 16
)

// rig is one registry process, one Counter process and the caller, all on one broker URL.
type rig struct {
	t       *testing.T
	url     string
	state   string // the registry's state file
	journal string // the Counter's journal
	reg     *proctest.Proc
	counter *proctest.Proc
	c       *caller
	sid     string // the Counter's session id
}

func newRig(t *testing.T, url string) *rig {
	t.Helper()
	dir := t.TempDir()
	r := &rig{t: t, url: url, state: filepath.Join(dir, "registry.json"), journal: filepath.Join(dir, "counter.journal"),
		sid: wire.SessionID("Counter")}
	r.startRegistry()
	r.startCounter()
	r.c = newCaller(t, url)
	return r
}

func (r *rig) startRegistry() {
	r.t.Helper()
	r.reg = start(r.t, "atq", "registry", "-u", r.url, "--state", r.state, "--pidfile", "", "--debugger=false")
	r.reg.WaitLine("registry listening on ", ready)
}

// startCounter starts the Counter process and checks that it has the session it had.
func (r *rig) startCounter() {
	r.t.Helper()
	args := []string{"--amqp", r.url, "--journal", r.journal, "--hold", hold.String(), "--prefetch", strconv.Itoa(prefetch)}
	if os.Getenv("ATQ_FAULTS_NO_DURABLE_DEDUPE") != "" {
		args = append(args, "--durable-dedupe=false")
	}
	r.counter = start(r.t, "counter", args...)
	line := r.counter.WaitLine("Counter registered, session ", ready)
	if !strings.Contains(line, r.sid) {
		r.t.Errorf("Counter registered with %q, want session %s (its queue pair)", line, r.sid)
	}
}

// run injects fault into a running load, lets the load go on until it has recovered,
// drains it, stops the programs and accounts for every call.
func (r *rig) run(fault string, inject func()) {
	t := r.t
	l := startLoad(t, r.c.h, fault)
	if !l.reach(answersBeforeFault, 60*time.Second) {
		l.finish()
		t.Fatalf("fault=%s: the load did not get %d answers before the fault", fault, answersBeforeFault)
	}
	t0 := time.Now()
	inject()
	at := l.answered.Load()
	t.Logf("fault=%s injected in %v; %d calls answered, %d started", fault, time.Since(t0).Round(time.Millisecond), at, l.next.Load())
	if !l.reach(at+answersAfterFault, recoverWithin) {
		t.Logf("fault=%s: %d answers in %v after the fault, want %d", fault, l.answered.Load()-at, time.Since(t0).Round(time.Second), answersAfterFault)
	}
	o := l.finish()
	// Stopped first, so that the journal is final when it is read.
	if code := r.counter.Stop(syscall.SIGTERM, stopped); code != 0 {
		t.Logf("counter exited with status %d after SIGTERM\nstderr (tail):\n%s", code, proctest.Tail(r.counter.Stderr(), 15))
	}
	if code := r.reg.Stop(syscall.SIGTERM, stopped); code != 0 {
		t.Logf("registry exited with status %d after SIGTERM\nstderr (tail):\n%s", code, proctest.Tail(r.reg.Stderr(), 15))
	}
	account(t, fault, o, readJournal(t, r.journal, fault), o.answered-int(at))
}

// (a) Every AMQP connection of the caller, the registry and the Counter is closed at once
// by the TCP proxy they all connect through.
func TestConnectionCut(t *testing.T) {
	t.Parallel()
	vhost := rabbittest.VHost(t)
	p := proxy.New(t, vhost)
	r := newRig(t, p.URL())
	r.run("connection_cut", func() {
		n := p.Cut()
		t.Logf("cut %d connections", n)
	})
}

// (b) The registry process is killed and started again on its state file.
func TestRegistryRestart(t *testing.T) {
	t.Parallel()
	r := newRig(t, rabbittest.VHost(t))
	r.run("registry_restart", func() {
		r.reg.Kill(stopped)
		r.startRegistry()
	})
}

// (c) The Counter process is killed and started again: it gets its queue pair back (the
// same session id) and serves what waited in its queue.
func TestComponentRestart(t *testing.T) {
	t.Parallel()
	r := newRig(t, rabbittest.VHost(t))
	r.run("component_restart", func() {
		r.counter.Kill(stopped)
		waitNoConsumer(t, r.c.tr, wire.RecieveQueue(r.sid))
		r.startCounter()
	})
}

// (d) The RabbitMQ application of a node of the test's own is stopped and started
// again: every connection drops, and the transient messages queued in the broker are
// lost with it. The retried calls must still all be answered, each executed once.
func TestBrokerRestart(t *testing.T) {
	t.Parallel()
	n := startNode(t)
	r := newRig(t, n.url)
	r.run("broker_restart", func() {
		n.mustCtl("stop_app")
		n.mustCtl("start_app")
	})
}
