package amqpbridge_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/bridge"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/internal/testkit/proxy"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/internal/testkit/testlog"
	"github.com/at-technology/atqueue/supervision"
	"github.com/at-technology/atqueue/wire"
	amqp "github.com/rabbitmq/amqp091-go"
)

// fastReconnect keeps the proxy tests short.
var fastReconnect = amqpbridge.WithReconnect(supervision.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond, Multiplier: 2, Jitter: 0.5})

// logRecorder keeps the transport's log lines (and shows them in the test log).
type logRecorder struct {
	t     testing.TB
	mu    sync.Mutex
	lines []string
}

func newLogRecorder(t testing.TB) *logRecorder { return &logRecorder{t: t} }

func (r *logRecorder) Write(p []byte) (int, error) {
	line := strings.TrimSuffix(string(p), "\n")
	r.mu.Lock()
	r.lines = append(r.lines, line)
	r.mu.Unlock()
	r.t.Log(line)
	return len(p), nil
}

func (r *logRecorder) option() amqpbridge.Option {
	return amqpbridge.WithLogger(slog.New(slog.NewTextHandler(r, &slog.HandlerOptions{Level: slog.LevelDebug})))
}

// count is the number of lines holding every one of parts.
func (r *logRecorder) count(parts ...string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
lines:
	for _, l := range r.lines {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				continue lines
			}
		}
		n++
	}
	return n
}

// eventually polls cond until it holds or within has passed.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// connectionsNamed returns the pid and heartbeat timeout of each broker connection named
// name.
func connectionsNamed(t testing.TB, name string) map[string]string {
	t.Helper()
	out := rabbittest.Ctl(t, "list_connections", "--no-table-headers", "pid", "timeout", "client_properties")
	got := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, `{"connection_name","`+name+`"}`) {
			f := strings.Split(line, "\t")
			got[f[0]] = f[1]
		}
	}
	return got
}

// TestReconnectAfterBrokerClosesConnection: the broker closes the connection while a
// consumer is attached and publishes flow. The transport reconnects, the consumer resumes
// on the same Subscription, every message is delivered at least once (a publish that fails
// with ErrConnectionLost is published again, as the layer above does), and every done is
// called once.
func TestReconnectAfterBrokerClosesConnection(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	name := fmt.Sprintf("atq-test-reconnect-%d", time.Now().UnixNano())
	logs := newLogRecorder(t)
	tr := dial(t, url, amqpbridge.WithConnectionName(name), amqpbridge.WithHeartbeat(7*time.Second), logs.option())
	ctx := ctxFor(t)
	sid := wire.SessionID("reconnect")
	if err := tr.DeclareSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	queue := wire.RecieveQueue(sid)

	var (
		mu        sync.Mutex
		seen      = map[string]int{}
		held      *bridge.Delivery
		heldGot   = make(chan struct{})
		heldBack  = make(chan *bridge.Delivery, 1)
		ackErrs   atomic.Int64
		delivered atomic.Int64
	)
	sub, err := tr.Consume(ctx, queue, 50, func(d *bridge.Delivery) {
		if string(d.Body) == "held" {
			mu.Lock()
			first := held == nil
			if first {
				held = d
			}
			mu.Unlock()
			if first {
				close(heldGot) // left unacknowledged across the loss
			} else {
				heldBack <- d
			}
			return
		}
		mu.Lock()
		seen[string(d.Body)]++
		mu.Unlock()
		delivered.Add(1)
		if err := d.Ack(); err != nil {
			ackErrs.Add(1)
			t.Errorf("ack of %s: %v", d.Body, err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()
	publishWait(t, tr, queue, []byte("held"), nil)
	<-heldGot

	// Publish ids continuously; a publish failed by the loss goes out again.
	var (
		pubs       sync.WaitGroup
		callsMu    sync.Mutex
		calls      []*atomic.Int32
		lost       atomic.Int64
		unexpected atomic.Value
		nextID     int
		stop       = make(chan struct{})
		loop       sync.WaitGroup
	)
	var publish func(id int)
	publish = func(id int) {
		c := new(atomic.Int32)
		callsMu.Lock()
		calls = append(calls, c)
		callsMu.Unlock()
		pubs.Add(1)
		tr.Publish(queue, []byte(strconv.Itoa(id)), nil, func(err error) {
			defer pubs.Done()
			c.Add(1)
			switch {
			case err == nil:
			case errors.Is(err, bridge.ErrConnectionLost):
				lost.Add(1)
				publish(id)
			default:
				unexpected.Store(err)
			}
		})
	}
	loop.Add(1)
	go func() {
		defer loop.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for i := 0; i < 5; i++ {
				publish(nextID)
				nextID++
			}
			time.Sleep(time.Millisecond)
		}
	}()
	eventually(t, 10*time.Second, "100 deliveries before the loss", func() bool { return delivered.Load() >= 100 })

	before := connectionsNamed(t, name)
	if len(before) != 1 {
		t.Fatalf("connections named %s: %v, want one", name, before)
	}
	var oldPid string
	for pid, hb := range before {
		oldPid = pid
		if hb != "7" {
			t.Errorf("negotiated heartbeat %ss, want 7 (WithHeartbeat)", hb)
		}
	}
	rabbittest.Ctl(t, "close_connection", oldPid, "atq test: broker closes the connection")
	eventually(t, 15*time.Second, "reconnected", func() bool { return logs.count("reconnected to RabbitMQ") > 0 })
	atLoss := delivered.Load()

	var redelivered *bridge.Delivery
	select {
	case redelivered = <-heldBack:
	case <-time.After(10 * time.Second):
		t.Fatal("the delivery left unacknowledged was not redelivered after the reconnect")
	}
	if !redelivered.Redelivered {
		t.Error("the delivery left unacknowledged came back without Redelivered")
	}
	if err := held.Ack(); err != nil {
		t.Errorf("Ack of a delivery from the lost connection: %v, want nil (a no-op)", err)
	}
	if err := redelivered.Ack(); err != nil {
		t.Errorf("Ack of the redelivery: %v", err)
	}

	// Keep publishing for a while on the new connection, then wait for everything.
	eventually(t, 10*time.Second, "100 deliveries after the reconnect", func() bool { return delivered.Load() >= atLoss+100 })
	close(stop)
	loop.Wait()
	waited := make(chan struct{})
	go func() { pubs.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(15 * time.Second):
		t.Fatal("some publishes never completed")
	}
	if err := unexpected.Load(); err != nil {
		t.Errorf("a publish failed with %v, want nil or bridge.ErrConnectionLost", err)
	}
	callsMu.Lock()
	for i, c := range calls {
		if n := c.Load(); n != 1 {
			t.Errorf("done of publish call %d called %d times", i, n)
		}
	}
	nCalls := len(calls)
	callsMu.Unlock()
	eventually(t, 15*time.Second, "every id delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for id := 0; id < nextID; id++ {
			if seen[strconv.Itoa(id)] == 0 {
				return false
			}
		}
		return true
	})
	mu.Lock()
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	mu.Unlock()
	t.Logf("%d ids, %d publish calls, %d failed with ErrConnectionLost and were published again, %d duplicate deliveries",
		nextID, nCalls, lost.Load(), dups)

	if !tr.Connected() {
		t.Error("Connected() is false after the reconnect")
	}
	after := connectionsNamed(t, name)
	if len(after) != 1 {
		t.Fatalf("connections named %s after the reconnect: %v, want one", name, after)
	}
	for pid, hb := range after {
		if pid == oldPid {
			t.Errorf("connection %s still open", pid)
		}
		if hb != "7" {
			t.Errorf("heartbeat after the reconnect %ss, want 7", hb)
		}
	}
	if n, err := tr.Consumers(ctx, queue); err != nil || n != 1 {
		t.Errorf("Consumers after the reconnect = %d, %v; want 1", n, err)
	}
	if logs.count("level=WARN", `msg="reconnecting to RabbitMQ"`, "attempt=1", "delay=") == 0 {
		t.Error("no Warn line for the first redial attempt with its delay")
	}
}

// TestWhileDisconnected: while the broker cannot be reached, publishes are held and sent
// after the reconnect, DeclareSession/Consume/Consumers wait (bounded by ctx), a Cancel
// works, the sessions' queues are declared again, and deliveries resume on the same
// Subscription.
func TestWhileDisconnected(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	p := proxy.New(t, url)
	purl := p.URL()
	logs := newLogRecorder(t)
	tr := dial(t, purl, fastReconnect, logs.option())
	ctx := ctxFor(t)
	sid, other := wire.SessionID("disconnected"), wire.SessionID("disconnected-other")
	for _, s := range []string{sid, other} {
		if err := tr.DeclareSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	in, cancelled := newInbox(), newInbox()
	sub, err := tr.Consume(ctx, wire.RecieveQueue(sid), 10, in.deliver)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()
	subOther, err := tr.Consume(ctx, wire.RecieveQueue(other), 10, cancelled.deliver)
	if err != nil {
		t.Fatal(err)
	}
	publishWait(t, tr, wire.RecieveQueue(sid), []byte("before"), nil)
	if d := in.next(t); string(d.Body) != "before" {
		t.Fatalf("got %q", d.Body)
	} else {
		_ = d.Ack()
	}

	p.SetMode(proxy.Refuse)
	p.Cut()
	eventually(t, 5*time.Second, "Connected() false after the cut", func() bool { return !tr.Connected() })
	// As after a broker that lost its data: the session's queues must be declared again
	// before anything is published or consumed on the new connection.
	raw := rabbittest.Channel(t, url)
	for _, q := range []string{wire.SendQueue(sid), wire.RecieveQueue(sid)} {
		if _, err := raw.QueueDelete(q, false, false, false); err != nil {
			t.Fatal(err)
		}
	}

	heldDone := make(chan error, 1)
	tr.Publish(wire.RecieveQueue(sid), []byte("while down"), nil, func(err error) { heldDone <- err })

	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = tr.DeclareSession(short, wire.SessionID("late"))
	if !errors.Is(err, bridge.ErrConnectionLost) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("DeclareSession while down, ctx 200ms: %v, want ErrConnectionLost and DeadlineExceeded", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("DeclareSession while down returned after %v, want about 200ms", d)
	}
	if _, err := tr.Consume(short, wire.SendQueue(sid), 1, in.deliver); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Consume while down, ctx expired: %v, want DeadlineExceeded", err)
	}

	type consumed struct {
		sub bridge.Subscription
		err error
	}
	late := newInbox()
	consumeDone := make(chan consumed, 1)
	declareDone := make(chan error, 1)
	countDone := make(chan error, 1)
	go func() {
		s, err := tr.Consume(ctx, wire.SendQueue(sid), 5, late.deliver)
		consumeDone <- consumed{s, err}
	}()
	go func() { declareDone <- tr.DeclareSession(ctx, wire.SessionID("declared while down")) }()
	go func() {
		_, err := tr.Consumers(ctx, wire.RecieveQueue(sid))
		countDone <- err
	}()
	if err := subOther.Cancel(); err != nil { // while down: must return and not leak
		t.Errorf("Cancel while down: %v", err)
	}
	select {
	case err := <-heldDone:
		t.Fatalf("publish while down: done(%v) before the reconnect", err)
	case r := <-consumeDone:
		t.Fatalf("Consume while down returned %v before the reconnect", r.err)
	case <-time.After(300 * time.Millisecond):
	}
	if n := logs.count("level=WARN", `msg="reconnecting to RabbitMQ"`, "delay="); n < 2 {
		t.Errorf("%d Warn lines for redial attempts, want one per attempt", n)
	}

	p.SetMode(proxy.Pass)
	select {
	case err := <-heldDone:
		if err != nil {
			t.Fatalf("publish held while down: done(%v), want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("publish held while down: no done within 10s of the broker coming back")
	}
	d := in.next(t)
	if string(d.Body) == "before" && d.Redelivered {
		// Its ack may have been cut off in the proxy: redelivered, as it should be.
		_ = d.Ack()
		d = in.next(t)
	}
	if string(d.Body) != "while down" {
		t.Errorf("after the reconnect the subscription got %q, want \"while down\"", d.Body)
	} else if err := d.Ack(); err != nil {
		t.Errorf("ack after the reconnect: %v", err)
	}
	r := <-consumeDone
	if r.err != nil {
		t.Fatalf("Consume made while down: %v", r.err)
	}
	defer r.sub.Cancel()
	if err := <-declareDone; err != nil {
		t.Errorf("DeclareSession made while down: %v", err)
	}
	if err := <-countDone; err != nil {
		t.Errorf("Consumers made while down: %v", err)
	}
	publishWait(t, tr, wire.SendQueue(sid), []byte("to the late consumer"), nil)
	if d := late.next(t); string(d.Body) != "to the late consumer" {
		t.Errorf("late consumer got %q", d.Body)
	}
	// The subscription cancelled while down was not resumed.
	if n, err := tr.Consumers(ctx, wire.RecieveQueue(other)); err != nil || n != 0 {
		t.Errorf("Consumers of the queue whose subscription was cancelled while down = %d, %v; want 0", n, err)
	}
	publishWait(t, tr, wire.RecieveQueue(other), []byte("nobody"), nil)
	cancelled.none(t, 200*time.Millisecond)
	if logs.count("level=INFO", `msg="reconnected to RabbitMQ"`) != 1 {
		t.Error("no Info line \"reconnected to RabbitMQ\"")
	}
}

// TestHeldPublishTimesOut: with the broker unreachable, a held publish fails with
// ErrConnectionLost within the confirm timeout; nothing hangs.
func TestHeldPublishTimesOut(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	p := proxy.New(t, url)
	purl := p.URL()
	const timeout = 300 * time.Millisecond
	tr := dial(t, purl, fastReconnect, amqpbridge.WithConfirmTimeout(timeout))
	sid := wire.SessionID("held-timeout")
	if err := tr.DeclareSession(ctxFor(t), sid); err != nil {
		t.Fatal(err)
	}
	p.SetMode(proxy.Refuse)
	p.Cut()
	eventually(t, 5*time.Second, "Connected() false after the cut", func() bool { return !tr.Connected() })

	const n = 3
	errs := make(chan error, n)
	start := time.Now()
	for i := 0; i < n; i++ {
		tr.Publish(wire.SendQueue(sid), []byte("never"), nil, func(err error) { errs <- err })
		time.Sleep(20 * time.Millisecond)
	}
	for i := 0; i < n; i++ {
		select {
		case err := <-errs:
			if !errors.Is(err, bridge.ErrConnectionLost) {
				t.Errorf("held publish: done(%v), want ErrConnectionLost", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a held publish got no done within 5s")
		}
	}
	if d := time.Since(start); d < timeout || d > timeout+time.Second {
		t.Errorf("held publishes failed after %v, want about %v", d, timeout)
	}
}

// TestFailFastPublishThroughBridge: the bridge actor owns its connection (dialled through
// a Broker); it reports the link going down and up to a watcher, a Publish with FailFast
// fails at once while it is down, and one without waits and is sent after the reconnect.
func TestFailFastPublishThroughBridge(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	p := proxy.New(t, url)
	purl := p.URL()
	sid := wire.SessionID("fail-fast")
	if err := dial(t, url).DeclareSession(ctxFor(t), sid); err != nil {
		t.Fatal(err)
	}
	queue := wire.SendQueue(sid)

	sys, pid, me, next := spawnBridge(t, purl, func(m any) bool {
		switch m.(type) {
		case *bridge.Published, *bridge.Link:
			return true
		}
		return false
	}, fastReconnect)
	sys.Root.RequestWithCustomSender(pid, &bridge.Watch{}, me)
	for l, _ := next("link state", 10*time.Second).(*bridge.Link); l == nil || !l.Up; l, _ = next("link up", 10*time.Second).(*bridge.Link) {
	}
	publish := func(body string, failFast bool) {
		sys.Root.Send(pid, &bridge.Publish{Queue: queue, Body: []byte(body), FailFast: failFast, Notify: me, Tag: body})
	}
	outcome := func(body string) error {
		t.Helper()
		for {
			if m, ok := next("outcome of "+body, 10*time.Second).(*bridge.Published); ok && m.Tag == body {
				return m.Err
			}
		}
	}
	publish("connected", true)
	if err := outcome("connected"); err != nil {
		t.Fatalf("FailFast publish while connected: %v", err)
	}

	p.SetMode(proxy.Refuse)
	p.Cut()
	for l, _ := next("link down", 5*time.Second).(*bridge.Link); l == nil || l.Up; l, _ = next("link down", 5*time.Second).(*bridge.Link) {
	}
	start := time.Now()
	publish("fail fast", true)
	if err := outcome("fail fast"); !errors.Is(err, bridge.ErrConnectionLost) {
		t.Errorf("FailFast publish while down: %v, want ErrConnectionLost", err)
	}
	t.Logf("FailFast publish failed %v after it was asked", time.Since(start))
	publish("held", false)
	p.SetMode(proxy.Pass)
	if err := outcome("held"); err != nil {
		t.Fatalf("held publish: %v", err)
	}
	q, err := rabbittest.Channel(t, url).QueueDeclarePassive(queue, true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if q.Messages != 2 {
		t.Errorf("queue holds %d messages, want 2 (the fail-fast one while down is not published)", q.Messages)
	}
}

// spawnBridge runs a bridge actor over the broker at url (stopped, with its system, when
// the test ends) and an actor, me, that keeps the messages keep accepts; next returns the
// next of them, failing the test if none comes within the wait.
func spawnBridge(t *testing.T, url string, keep func(any) bool, opts ...amqpbridge.Option) (sys *actor.ActorSystem, pid, me *actor.PID, next func(what string, within time.Duration) any) {
	t.Helper()
	sys = actor.NewActorSystem(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }),
		actor.WithDeadLetterThrottleInterval(10*time.Millisecond),
	)
	pid = sys.Root.Spawn(bridge.Props(amqpbridge.NewBroker(url, append(opts, amqpbridge.WithLogger(testlog.New(t)))...)))
	t.Cleanup(func() { // the bridge closes its connection as it stops
		_ = sys.Root.PoisonFuture(pid).Wait()
		sys.Shutdown()
	})
	got := make(chan any, 16)
	me = sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if m := c.Message(); keep(m) {
			got <- m
		}
	}))
	next = func(what string, within time.Duration) any {
		t.Helper()
		select {
		case m := <-got:
			return m
		case <-time.After(within):
			t.Fatalf("no %s within %v", what, within)
			return nil
		}
	}
	return sys, pid, me, next
}

// TestCloseWhileReconnecting: Close while the broker refuses connections, or while a
// redial hangs in the handshake, returns promptly and fails what waits with ErrClosed.
// TestMain's goleak check proves that no goroutine is left.
func TestCloseWhileReconnecting(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	for _, tc := range []struct {
		name string
		mode proxy.Mode
	}{
		{"refused", proxy.Refuse},
		{"hanging handshake", proxy.Hang},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := proxy.New(t, url)
			purl := p.URL()
			tr := dial(t, purl, fastReconnect)
			ctx := ctxFor(t)
			sid := wire.SessionID("close-reconnecting-" + tc.name)
			if err := tr.DeclareSession(ctx, sid); err != nil {
				t.Fatal(err)
			}
			sub, err := tr.Consume(ctx, wire.RecieveQueue(sid), 1, func(*bridge.Delivery) {})
			if err != nil {
				t.Fatal(err)
			}
			dialled := p.Accepted()
			p.SetMode(tc.mode)
			p.Cut()
			eventually(t, 5*time.Second, "a redial reaching the proxy", func() bool { return p.Accepted() > dialled })
			time.Sleep(50 * time.Millisecond)

			errc := make(chan error, 1)
			tr.Publish(wire.SendQueue(sid), []byte("x"), nil, func(err error) { errc <- err })
			waiting := make(chan error, 1)
			go func() {
				_, err := tr.Consume(context.Background(), wire.SendQueue(sid), 1, func(*bridge.Delivery) {})
				waiting <- err
			}()
			time.Sleep(20 * time.Millisecond)

			start := time.Now()
			if err := tr.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("Close while reconnecting took %v", d)
			}
			if err := <-errc; !errors.Is(err, bridge.ErrClosed) {
				t.Errorf("publish held at Close: done(%v), want ErrClosed", err)
			}
			select {
			case err := <-waiting:
				if !errors.Is(err, bridge.ErrClosed) {
					t.Errorf("Consume waiting at Close: %v, want ErrClosed", err)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("Consume waiting for the connection did not return at Close")
			}
			if err := sub.Cancel(); err != nil {
				t.Errorf("Cancel after Close: %v", err)
			}
		})
	}
}

// A consumer the broker ends while the connection stays up (here: its queue is deleted)
// is resumed: the session's queues are declared again and deliveries flow as before.
func TestConsumerResumesWhenBrokerEndsIt(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	tr := dial(t, url, fastReconnect)
	ctx := ctxFor(t)
	sid := wire.SessionID("resumed-consumer")
	if err := tr.DeclareSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	queue := wire.RecieveQueue(sid)
	in := newInbox()
	sub, err := tr.Consume(ctx, queue, 0, in.deliver)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()
	publishWait(t, tr, queue, []byte("before"), nil)
	if d := in.next(t); string(d.Body) != "before" {
		t.Fatalf("got %q", d.Body)
	} else if err := d.Ack(); err != nil {
		t.Fatal(err)
	}

	if _, err := rabbittest.Channel(t, url).QueueDelete(queue, false, false, false); err != nil {
		t.Fatal(err)
	}
	for {
		n, err := tr.Consumers(ctx, queue)
		if err == nil && n == 1 {
			break
		}
		if err != nil && !errors.Is(err, bridge.ErrNoQueue) {
			t.Fatal(err)
		}
		if ctx.Err() != nil {
			t.Fatalf("the consumer was not resumed: %d consumers, %v", n, err)
		}
	}
	publishWait(t, tr, queue, []byte("after"), nil)
	if d := in.next(t); string(d.Body) != "after" {
		t.Fatalf("got %q", d.Body)
	}
}

// An Open with Declared consumes the session's queue as its owner declared it, and when
// that queue is gone (an owner whose pair was deleted, a broker that lost it) declares
// the pair and consumes it all the same.
func TestOpenDeclaredSession(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	sys, pid, me, next := spawnBridge(t, url, func(m any) bool {
		switch m.(type) {
		case *bridge.Opened, *bridge.Delivery:
			return true
		}
		return false
	})
	there, gone := wire.SessionID("declared-there"), wire.SessionID("declared-gone")
	if err := dial(t, url).DeclareSession(ctxFor(t), there); err != nil {
		t.Fatal(err)
	}
	for _, sid := range []string{there, gone} {
		sys.Root.RequestWithCustomSender(pid, &bridge.Open{Session: sid, Queue: wire.SendQueue(sid), Exclusive: true, Declared: true}, me)
		if o, _ := next("Opened of "+sid, 10*time.Second).(*bridge.Opened); o == nil || o.Err != nil {
			t.Fatalf("Open of %s with Declared: %+v", sid, o)
		}
		ch := rabbittest.Channel(t, url)
		for _, q := range []string{wire.SendQueue(sid), wire.RecieveQueue(sid)} {
			if _, err := ch.QueueDeclarePassive(q, true, false, false, false, nil); err != nil {
				t.Fatalf("%s after the Open: %v", q, err)
			}
		}
		if err := ch.Publish("", wire.SendQueue(sid), false, false, amqp.Publishing{Body: []byte(sid)}); err != nil {
			t.Fatal(err)
		}
		if d, _ := next("delivery on "+sid, 10*time.Second).(*bridge.Delivery); d == nil || string(d.Body) != sid {
			t.Fatalf("delivery on %s: %+v", sid, d)
		}
	}
}
