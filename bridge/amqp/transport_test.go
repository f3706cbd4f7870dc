package amqpbridge_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/at-technology/atqueue/bridge"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/supervision"
	"github.com/at-technology/atqueue/wire"
	amqp "github.com/rabbitmq/amqp091-go"
)

func TestDeclareSession(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	tr := dial(t, url)
	ctx := ctxFor(t)

	sid := wire.SessionID("declare-test")
	for i := 0; i < 2; i++ {
		if err := tr.DeclareSession(ctx, sid); err != nil {
			t.Fatalf("DeclareSession #%d: %v", i+1, err)
		}
	}

	// A queue left non-durable by an old at_queue component is adopted as it is, not
	// refused; its missing twin is declared with the default (durable).
	clash := wire.SessionID("clash")
	raw := rabbittest.Channel(t, url)
	if _, err := raw.QueueDeclare(wire.SendQueue(clash), false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := tr.DeclareSession(ctx, clash); err != nil {
		t.Fatalf("DeclareSession over a non-durable queue: %v, want it adopted", err)
	}
	after := wire.SessionID("after-clash")
	if err := tr.DeclareSession(ctx, after); err != nil {
		t.Fatalf("DeclareSession after adopting: %v", err)
	}
	// A transport for old deployments creates what is missing non-durable.
	old := wire.SessionID("old-deployment")
	if err := dial(t, url, amqpbridge.WithDurable(false)).DeclareSession(ctx, old); err != nil {
		t.Fatalf("DeclareSession, WithDurable(false): %v", err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := tr.DeclareSession(cancelled, sid); !errors.Is(err, context.Canceled) {
		t.Errorf("DeclareSession with a cancelled ctx: %v, want context.Canceled", err)
	}
	if _, err := tr.Consume(cancelled, wire.SendQueue(sid), 0, func(*bridge.Delivery) {}); !errors.Is(err, context.Canceled) {
		t.Errorf("Consume with a cancelled ctx: %v, want context.Canceled", err)
	}

	_, err := tr.Consume(ctx, "no-such-queue", 1, func(*bridge.Delivery) {})
	if !errors.Is(err, bridge.ErrNoQueue) {
		t.Fatalf("Consume of a missing queue: err = %v, want bridge.ErrNoQueue", err)
	}
	if _, err := tr.Consumers(ctx, "no-such-queue"); !errors.Is(err, bridge.ErrNoQueue) {
		t.Fatalf("Consumers of a missing queue: err = %v, want bridge.ErrNoQueue", err)
	}
	consumers := func(want int) {
		t.Helper()
		if n, err := tr.Consumers(ctx, wire.RecieveQueue(sid)); err != nil || n != want {
			t.Fatalf("Consumers = %d, %v; want %d", n, err, want)
		}
	}
	consumers(0)
	sub, err := tr.Consume(ctx, wire.RecieveQueue(sid), 1, func(*bridge.Delivery) {})
	if err != nil {
		t.Fatal(err)
	}
	consumers(1)
	if err := sub.Cancel(); err != nil {
		t.Fatal(err)
	}
	consumers(0)

	out := rabbittest.Ctl(t, "list_queues", "-p", vhostOf(t, url), "--no-table-headers", "name", "durable", "auto_delete", "exclusive", "arguments")
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, rest, _ := strings.Cut(line, "\t")
		got[name] = rest
	}
	for _, q := range []struct {
		name    string
		durable bool
	}{
		{wire.SendQueue(sid), true}, {wire.RecieveQueue(sid), true},
		{wire.SendQueue(after), true}, {wire.RecieveQueue(after), true},
		{wire.SendQueue(clash), false}, {wire.RecieveQueue(clash), true},
		{wire.SendQueue(old), false}, {wire.RecieveQueue(old), false},
	} {
		if want := fmt.Sprintf("%t\tfalse\tfalse\t[]", q.durable); got[q.name] != want {
			t.Errorf("queue %s: durable/auto_delete/exclusive/arguments = %q, want %q\n%s", q.name, got[q.name], want, out)
		}
	}
}

func TestPublishConsumeRoundTrip(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	tr := dial(t, url)
	ctx := ctxFor(t)
	sid := wire.SessionID("round-trip")
	if err := tr.DeclareSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	queue := wire.SendQueue(sid)

	msgs := []struct {
		body    []byte
		headers wire.Headers
	}{
		{[]byte(`{"sender": "a", "message": {"x": 1}}`), wire.Headers{"auth_token": "tok-1"}},
		{[]byte("void token"), wire.Headers{"auth_token": nil}},
		{[]byte("no headers"), nil},
		{[]byte("utf8 ✓ and bytes \x00\xff"), wire.Headers{"auth_token": []byte("bytes-token"), "n": int32(7)}},
	}
	dones := newDoneCounter(len(msgs))
	for i, m := range msgs {
		tr.Publish(queue, m.body, m.headers, dones.done(i))
	}
	dones.wait(t, 10*time.Second)
	for i, err := range dones.errs {
		t.Errorf("publish %d: done(%v), want nil", i, err)
	}

	in := newInbox()
	sub, err := tr.Consume(ctx, queue, 0, in.deliver)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()
	for i, m := range msgs {
		d := in.next(t)
		if d.Queue != queue || string(d.Body) != string(m.body) || d.Redelivered {
			t.Errorf("delivery %d: queue %q body %q redelivered %v, want %q %q false", i, d.Queue, d.Body, d.Redelivered, queue, m.body)
		}
		if len(m.headers) == 0 {
			if len(d.Headers) != 0 {
				t.Errorf("delivery %d: headers %v, want none", i, d.Headers)
			}
		} else if !reflect.DeepEqual(d.Headers, m.headers) {
			t.Errorf("delivery %d: headers %#v, want %#v", i, d.Headers, m.headers)
		}
		if err := d.Ack(); err != nil {
			t.Errorf("ack %d: %v", i, err)
		}
	}
	if tok, ok := wire.Headers(msgs[0].headers).AuthToken(); !ok || tok != "tok-1" {
		t.Errorf("AuthToken of a string header = %q, %v", tok, ok)
	}

	// Headers amqp091 cannot encode fail that publish alone.
	errc := make(chan error, 1)
	tr.Publish(queue, []byte("bad"), wire.Headers{"x": struct{}{}}, func(err error) { errc <- err })
	if err := <-errc; err == nil || errors.Is(err, bridge.ErrConnectionLost) || !strings.Contains(err.Error(), "headers") {
		t.Errorf("publish with an unencodable header: done(%v), want a headers error", err)
	}

	// What the broker stores: transient, no content type, headers as sent.
	other := wire.RecieveQueue(sid)
	publishWait(t, tr, other, []byte("props"), wire.Headers{"auth_token": "t"})
	raw := rabbittest.Channel(t, url)
	d, ok, err := raw.Get(other, true)
	if err != nil || !ok {
		t.Fatalf("raw get: ok %v err %v", ok, err)
	}
	if d.DeliveryMode != 1 || d.ContentType != "" || d.ContentEncoding != "" || d.Exchange != "" || d.RoutingKey != other {
		t.Errorf("stored message: delivery mode %d, content type %q, encoding %q, exchange %q, routing key %q; want 1, \"\", \"\", \"\", %q",
			d.DeliveryMode, d.ContentType, d.ContentEncoding, d.Exchange, d.RoutingKey, other)
	}
	if d.Headers["auth_token"] != "t" || d.Expiration != "" {
		t.Errorf("stored headers %v, expiration %q; want auth_token t and no expiration", d.Headers, d.Expiration)
	}

	// PublishExpiring: the broker carries the expiration and drops the message in time.
	dones = newDoneCounter(2)
	tr.PublishExpiring(other, []byte("keeps a minute"), nil, 59*time.Second+time.Microsecond, dones.done(0))
	tr.PublishExpiring(other, []byte("expires"), nil, 50*time.Millisecond, dones.done(1))
	dones.wait(t, 10*time.Second)
	d, ok, err = raw.Get(other, true)
	if err != nil || !ok || d.Expiration != "59001" {
		t.Fatalf("raw get of an expiring message: ok %v err %v expiration %q, want 59001", ok, err, d.Expiration)
	}
	time.Sleep(150 * time.Millisecond)
	if d, ok, err := raw.Get(other, true); err != nil || ok {
		t.Errorf("message with a 50ms expiration still there after 150ms: ok %v err %v body %q", ok, err, d.Body)
	}
}

func TestPrefetchBoundsUnacked(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	tr := dial(t, url)
	ctx := ctxFor(t)
	sid := wire.SessionID("prefetch")
	if err := tr.DeclareSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	queue := wire.RecieveQueue(sid)
	for i := 0; i < 5; i++ {
		publishWait(t, tr, queue, []byte(fmt.Sprint(i)), nil)
	}

	in := newInbox()
	sub, err := tr.Consume(ctx, queue, 2, in.deliver)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()
	first, second := in.next(t), in.next(t)
	in.none(t, 300*time.Millisecond)
	if err := first.Ack(); err != nil {
		t.Fatal(err)
	}
	third := in.next(t)
	in.none(t, 300*time.Millisecond)
	got := []string{string(first.Body), string(second.Body), string(third.Body)}
	for _, d := range []*bridge.Delivery{second, third} {
		if err := d.Ack(); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 2; i++ {
		d := in.next(t)
		got = append(got, string(d.Body))
		_ = d.Ack()
	}
	if strings.Join(got, ",") != "0,1,2,3,4" {
		t.Errorf("delivered %v, want 0..4 in order", got)
	}
}

func TestNackRequeueAndCancel(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	tr := dial(t, url)
	ctx := ctxFor(t)
	sid := wire.SessionID("nack")
	if err := tr.DeclareSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	queue := wire.RecieveQueue(sid)
	publishWait(t, tr, queue, []byte("once"), nil)

	in := newInbox()
	sub, err := tr.Consume(ctx, queue, 1, in.deliver)
	if err != nil {
		t.Fatal(err)
	}
	d := in.next(t)
	if d.Redelivered {
		t.Error("first delivery is marked redelivered")
	}
	if err := d.Nack(true); err != nil {
		t.Fatal(err)
	}
	d = in.next(t)
	if !d.Redelivered || string(d.Body) != "once" {
		t.Errorf("after nack(requeue): body %q redelivered %v, want \"once\" true", d.Body, d.Redelivered)
	}
	// Left unacked: Cancel must requeue it.
	if err := sub.Cancel(); err != nil {
		t.Fatal(err)
	}
	if err := sub.Cancel(); err != nil {
		t.Fatalf("second Cancel: %v", err)
	}
	in.none(t, 200*time.Millisecond)
	if err := d.Ack(); err == nil {
		t.Error("ack after Cancel succeeded; the delivery was requeued")
	}

	in2 := newInbox()
	sub2, err := tr.Consume(ctx, queue, 1, in2.deliver)
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Cancel()
	d = in2.next(t)
	if !d.Redelivered || string(d.Body) != "once" {
		t.Errorf("after Cancel: body %q redelivered %v, want \"once\" true", d.Body, d.Redelivered)
	}
	if err := d.Ack(); err != nil {
		t.Fatal(err)
	}
	in2.none(t, 200*time.Millisecond)
}

func TestCancelStopsDeliveries(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	tr := dial(t, url)
	ctx := ctxFor(t)
	sid := wire.SessionID("cancel")
	if err := tr.DeclareSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	queue := wire.RecieveQueue(sid)
	const n = 300
	dones := newDoneCounter(n)
	for i := 0; i < n; i++ {
		tr.Publish(queue, []byte(fmt.Sprint(i)), nil, dones.done(i))
	}
	dones.wait(t, 10*time.Second)

	var (
		cancelled atomic.Bool
		late      atomic.Int64
		delivered atomic.Int64
		half      = make(chan struct{})
		halfOnce  sync.Once
	)
	sub, err := tr.Consume(ctx, queue, 10, func(d *bridge.Delivery) {
		if cancelled.Load() {
			late.Add(1)
		}
		if err := d.Ack(); err != nil {
			t.Errorf("ack: %v", err)
		}
		if delivered.Add(1) >= n/3 {
			halfOnce.Do(func() { close(half) })
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-half:
	case <-time.After(10 * time.Second):
		t.Fatalf("only %d deliveries", delivered.Load())
	}
	if err := sub.Cancel(); err != nil {
		t.Fatal(err)
	}
	cancelled.Store(true)
	time.Sleep(200 * time.Millisecond)
	if late.Load() != 0 {
		t.Fatalf("%d deliveries after Cancel returned", late.Load())
	}
	got := delivered.Load()
	if got == n {
		t.Fatalf("all %d messages were delivered before Cancel; the test proves nothing", n)
	}

	// Everything not delivered (and acked) before Cancel is still in the queue, once.
	in := newInbox()
	sub2, err := tr.Consume(ctx, queue, 50, in.deliver)
	if err != nil {
		t.Fatal(err)
	}
	defer sub2.Cancel()
	for i := got; i < n; i++ {
		_ = in.next(t).Ack()
	}
	in.none(t, 200*time.Millisecond)
}

func TestPipelinedPublishes(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	tr := dial(t, url)
	ctx := ctxFor(t)
	sid := wire.SessionID("pipelined")
	if err := tr.DeclareSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	queue := wire.SendQueue(sid)
	const n = 5000
	dones := newDoneCounter(n)
	body := []byte(`{"sender": "bench", "reciever": "x", "message": {"type": "ping"}}`)
	h := wire.Headers{"auth_token": "tok"}
	start := time.Now()
	for i := 0; i < n; i++ {
		tr.Publish(queue, body, h, dones.done(i))
	}
	queued := time.Since(start)
	dones.wait(t, 30*time.Second)
	elapsed := time.Since(start)
	for i, err := range dones.errs {
		t.Fatalf("publish %d: done(%v)", i, err)
	}
	t.Logf("%d publishes: Publish calls took %v, all confirmed after %v (%.0f/s)", n, queued, elapsed, n/elapsed.Seconds())

	raw := rabbittest.Channel(t, url)
	q, err := raw.QueueDeclarePassive(queue, true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if q.Messages != n {
		t.Errorf("queue holds %d messages, want %d", q.Messages, n)
	}
}

// TestConnectionLossWithoutReconnect: with reconnection disabled a loss is final.
func TestConnectionLossWithoutReconnect(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	name := fmt.Sprintf("atq-test-loss-%d", time.Now().UnixNano())
	tr := dial(t, url, amqpbridge.WithConnectionName(name), amqpbridge.WithHeartbeat(7*time.Second), amqpbridge.WithReconnect(supervision.Backoff{}))
	ctx := ctxFor(t)
	sid := wire.SessionID("loss")
	if err := tr.DeclareSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	in := newInbox()
	sub, err := tr.Consume(ctx, wire.RecieveQueue(sid), 10, in.deliver)
	if err != nil {
		t.Fatal(err)
	}
	publishWait(t, tr, wire.RecieveQueue(sid), []byte("before"), nil)
	in.next(t) // left unacked

	var pid string
	out := rabbittest.Ctl(t, "list_connections", "--no-table-headers", "pid", "timeout", "client_properties")
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, `{"connection_name","`+name+`"}`) {
			f := strings.Split(line, "\t")
			pid = f[0]
			if f[1] != "7" {
				t.Errorf("negotiated heartbeat %ss, want 7 (WithHeartbeat)", f[1])
			}
		}
	}
	if pid == "" {
		t.Fatalf("no connection named %s:\n%s", name, out)
	}

	// Keep publishing while the broker closes the connection.
	var (
		published, completed atomic.Int64
		unexpected           atomic.Value
		lost                 = make(chan struct{})
		lostOnce             sync.Once
		stop                 = make(chan struct{})
		wg                   sync.WaitGroup
	)
	onDone := func(err error) {
		completed.Add(1)
		switch {
		case err == nil:
		case errors.Is(err, bridge.ErrConnectionLost):
			lostOnce.Do(func() { close(lost) })
		default:
			unexpected.Store(err)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for i := 0; i < 20; i++ {
				published.Add(1)
				tr.Publish(wire.SendQueue(sid), []byte("during"), nil, onDone)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	rabbittest.Ctl(t, "close_connection", pid, "atq test: simulated connection loss")
	select {
	case <-lost:
	case <-time.After(10 * time.Second):
		t.Fatal("no publish failed with bridge.ErrConnectionLost within 10s of close_connection")
	}
	close(stop)
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for completed.Load() != published.Load() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if c, p := completed.Load(), published.Load(); c != p {
		t.Fatalf("%d of %d publishes completed: the rest hang", c, p)
	}
	if err := unexpected.Load(); err != nil {
		t.Errorf("a publish failed with %v, want nil or bridge.ErrConnectionLost", err)
	}
	t.Logf("%d publishes during the loss, all completed", published.Load())

	errc := make(chan error, 1)
	tr.Publish(wire.SendQueue(sid), []byte("after"), nil, func(err error) { errc <- err })
	select {
	case err := <-errc:
		if !errors.Is(err, bridge.ErrConnectionLost) {
			t.Errorf("Publish after the loss: done(%v), want bridge.ErrConnectionLost", err)
		}
	default:
		t.Error("Publish after the loss did not call done at once")
	}
	if err := tr.DeclareSession(ctx, sid); !errors.Is(err, bridge.ErrConnectionLost) {
		t.Errorf("DeclareSession after the loss: %v, want bridge.ErrConnectionLost", err)
	}
	if _, err := tr.Consume(ctx, wire.SendQueue(sid), 1, in.deliver); !errors.Is(err, bridge.ErrConnectionLost) {
		t.Errorf("Consume after the loss: %v, want bridge.ErrConnectionLost", err)
	}
	cancelled := make(chan error, 1)
	go func() { cancelled <- sub.Cancel() }()
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("Cancel of a consumer whose connection is gone hangs")
	}
	if tr.Connected() {
		t.Error("Connected() after the loss")
	}
	if err := tr.Close(); err != nil {
		t.Errorf("Close after the loss: %v", err)
	}
}

func TestCloseFailsQueuedPublishes(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	tr := dial(t, url)
	ctx := ctxFor(t)
	sid := wire.SessionID("close")
	if err := tr.DeclareSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	in := newInbox()
	sub, err := tr.Consume(ctx, wire.RecieveQueue(sid), 0, in.deliver)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	dones := newDoneCounter(n)
	for i := 0; i < n; i++ {
		tr.Publish(wire.SendQueue(sid), []byte("x"), nil, dones.done(i))
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Close has waited for every goroutine, so every done has been called.
	dones.wait(t, 0)
	closed := 0
	for i, err := range dones.errs {
		if !errors.Is(err, bridge.ErrClosed) {
			t.Errorf("publish %d: done(%v), want nil or bridge.ErrClosed", i, err)
		}
		closed++
	}
	t.Logf("%d of %d publishes confirmed before Close, %d failed with ErrClosed", n-closed, n, closed)

	if err := tr.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	errc := make(chan error, 1)
	tr.Publish(wire.SendQueue(sid), nil, nil, func(err error) { errc <- err })
	if err := <-errc; !errors.Is(err, bridge.ErrClosed) {
		t.Errorf("Publish after Close: done(%v), want bridge.ErrClosed", err)
	}
	if err := tr.DeclareSession(ctx, sid); !errors.Is(err, bridge.ErrClosed) {
		t.Errorf("DeclareSession after Close: %v", err)
	}
	if _, err := tr.Consume(ctx, wire.SendQueue(sid), 0, in.deliver); !errors.Is(err, bridge.ErrClosed) {
		t.Errorf("Consume after Close: %v", err)
	}
	if err := sub.Cancel(); err != nil {
		t.Errorf("Cancel after Close: %v", err)
	}
}

// A publish to a queue that does not exist ends with bridge.ErrNoQueue, as in the embedded
// transport, and the publishes around it, to a queue that exists, still succeed: returns
// are matched to the right messages.
func TestPublishToMissingQueue(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	tr := dial(t, url)
	ctx := ctxFor(t)
	sid := wire.SessionID("missing-queue")
	if err := tr.DeclareSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	good, missing := wire.SendQueue(sid), "recieve-nobody-declared-this"
	const n = 600
	dones := newDoneCounter(n)
	for i := range n {
		queue := good
		if i%3 == 1 {
			queue = missing
		}
		tr.Publish(queue, []byte(fmt.Sprintf("m%d", i%2)), nil, dones.done(i))
	}
	dones.wait(t, 30*time.Second)
	for i := range n {
		err := dones.errs[i]
		if i%3 == 1 {
			if !errors.Is(err, bridge.ErrNoQueue) || !strings.Contains(err.Error(), missing) {
				t.Fatalf("publish %d to the missing queue: done(%v), want ErrNoQueue naming it", i, err)
			}
		} else if err != nil {
			t.Fatalf("publish %d to %s: done(%v)", i, good, err)
		}
	}
	q, err := rabbittest.Channel(t, url).QueueDeclarePassive(good, true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if q.Messages != n-n/3 {
		t.Fatalf("%s holds %d messages, want %d", good, q.Messages, n-n/3)
	}
}

// Without WithDurable, the queues a transport creates follow the registry's queues when
// they exist: a Go component joining a deployment of old at_queue components (non-durable
// queues) creates non-durable ones too, which those components can declare again.
func TestDeclareFollowsDeployment(t *testing.T) {
	t.Parallel()
	for _, found := range []bool{false, true} {
		t.Run(fmt.Sprintf("registry queues durable=%t", found), func(t *testing.T) {
			t.Parallel()
			url := rabbittest.VHost(t)
			ctx := ctxFor(t)
			raw := rabbittest.Channel(t, url)
			for _, q := range []string{wire.SendQueue(wire.RegistrySession), wire.RecieveQueue(wire.RegistrySession)} {
				if _, err := raw.QueueDeclare(q, found, false, false, false, nil); err != nil {
					t.Fatal(err)
				}
			}
			tr := dial(t, url)
			mine := wire.SessionID("joins")
			for _, sid := range []string{wire.RegistrySession, mine} {
				if err := tr.DeclareSession(ctx, sid); err != nil {
					t.Fatal(err)
				}
			}
			// Declared again with the found flag, as a Python peer of that version would.
			for _, q := range []string{wire.SendQueue(mine), wire.RecieveQueue(mine)} {
				if _, err := raw.QueueDeclare(q, found, false, false, false, nil); err != nil {
					t.Fatalf("a peer declaring %s durable=%t after the Go side created it: %v", q, found, err)
				}
			}
		})
	}
}

func TestDurabilityHint(t *testing.T) {
	refused := &amqp.Error{Code: amqp.PreconditionFailed, Reason: "PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'send-x' in vhost '/': received 'true' but current is 'false'"}
	err := amqpbridge.WithDurabilityHintForTest(refused)
	if !strings.Contains(err.Error(), "--durable") || !strings.Contains(err.Error(), "6ddd4b0") || !errors.Is(err, refused) {
		t.Errorf("err = %v: want RabbitMQ's text, the option and the commit, and errors.Is the AMQP error", err)
	}
	other := &amqp.Error{Code: amqp.PreconditionFailed, Reason: "PRECONDITION_FAILED - inequivalent arg 'x-max-length'"}
	if got := amqpbridge.WithDurabilityHintForTest(other); got != error(other) {
		t.Errorf("another refusal got the durability hint: %v", got)
	}
}

// The transport logs nothing through the process-wide default logger unless it is given
// a logger: a program's own logs are not interleaved with the library's unasked.
func TestNoDefaultLogger(t *testing.T) {
	url := rabbittest.VHost(t)
	var mu sync.Mutex
	var lines []string
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		lines = append(lines, string(p))
		mu.Unlock()
		return len(p), nil
	}), nil)))
	defer slog.SetDefault(prev)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr, err := amqpbridge.Dial(ctx, url) // connects and closes: both are logged when asked
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lines) > 0 {
		t.Errorf("the transport wrote to the default logger: %q", lines)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Shared consumers of the same shard share one channel; a queue held by another consumer is
// refused without closing it; a cancelled consumer's unsettled deliveries go back to their queue, and
// settling one later neither succeeds nor disturbs the other consumers.
func TestSharedConsumers(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := ctxFor(t)
	tr := dial(t, url)
	a, b, c := wire.SessionID("shared-a"), "", wire.SessionID("shared-c")
	for i := 0; b == ""; i++ { // b's queue on a's shared channel
		if sid := wire.SessionID(fmt.Sprintf("shared-b%d", i)); amqpbridge.ShardOfForTest(wire.SendQueue(sid)) == amqpbridge.ShardOfForTest(wire.SendQueue(a)) {
			b = sid
		}
	}
	for _, sid := range []string{a, b, c} {
		if err := tr.DeclareSession(ctx, sid); err != nil {
			t.Fatal(err)
		}
	}
	inA, inB := newInbox(), newInbox()
	if _, err := tr.ConsumeExclusiveShared(ctx, wire.SendQueue(a), 10, inA.deliver, nil); err != nil {
		t.Fatal(err)
	}
	subB, err := tr.ConsumeExclusiveShared(ctx, wire.SendQueue(b), 10, inB.deliver, nil)
	if err != nil {
		t.Fatal(err)
	}
	channels := rabbittest.ConsumerChannels(t, vhostOf(t, url))
	if ca, cb := channels[wire.SendQueue(a)], channels[wire.SendQueue(b)]; ca == "" || ca != cb {
		t.Fatalf("consumers' channels: %q and %q, want one shared\n%v", ca, cb, channels)
	}
	roundTrip := func(body string) {
		t.Helper()
		publishWait(t, tr, wire.SendQueue(a), []byte(body), nil)
		if d := inA.next(t); string(d.Body) != body || d.Ack() != nil {
			t.Fatalf("got %q on the shared channel, want %q settled", d.Body, body)
		}
	}

	raw := rabbittest.Channel(t, url)
	if _, err := raw.Consume(wire.SendQueue(c), "", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.ConsumeExclusiveShared(ctx, wire.SendQueue(c), 10, func(*bridge.Delivery) {}, nil); !errors.Is(err, bridge.ErrInUse) {
		t.Fatalf("shared exclusive consumer of a queue in use: %v, want ErrInUse", err)
	}
	roundTrip("after the refusal")

	publishWait(t, tr, wire.SendQueue(b), []byte("unsettled"), nil)
	held := inB.next(t)
	if err := subB.Cancel(); err != nil {
		t.Fatal(err)
	}
	if err := held.Ack(); err == nil {
		t.Fatal("a delivery settled after its consumer was cancelled was acknowledged; it was requeued")
	}
	roundTrip("after the cancel")
	again := newInbox()
	if _, err := tr.Consume(ctx, wire.SendQueue(b), 1, again.deliver); err != nil {
		t.Fatal(err)
	}
	if d := again.next(t); string(d.Body) != "unsettled" || !d.Redelivered {
		t.Fatalf("after the cancel the queue gave %q (redelivered %v), want the unsettled delivery again", d.Body, d.Redelivered)
	}
}

// Shared consumers start and stop at once from many goroutines (a registry while
// components register and others are found dead). amqp091-go does not keep a channel's
// RPCs apart: a basic.cancel-ok taken by a basic.consume waiting on the same channel
// failed both, left a consumer on the broker nobody read, and the Cancel waited forever
// for deliveries that never ended.
func TestSharedConsumersStartAndStopTogether(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := ctxFor(t)
	tr := dial(t, url)
	const n = 40
	queue := func(i int) string { return wire.SendQueue(wire.SessionID(fmt.Sprintf("together-%02d", i))) }
	for i := range 2 * n {
		if err := tr.DeclareSession(ctx, wire.SessionID(fmt.Sprintf("together-%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	subs := make([]bridge.Subscription, 2*n)
	for i := range n {
		s, err := tr.ConsumeExclusiveShared(ctx, queue(i), 10, func(*bridge.Delivery) {}, nil)
		if err != nil {
			t.Fatal(err)
		}
		subs[i] = s
	}
	// Each round stops the consumers of one half and starts those of the other, all at
	// once.
	for round := range 6 {
		stop, start := round%2*n, (round+1)%2*n
		errs := make(chan error, n)
		for i := range n {
			go func() { // the cancels come while the other goroutines' consumers start
				s, err := tr.ConsumeExclusiveShared(ctx, queue(start+i), 10, func(*bridge.Delivery) {}, nil)
				subs[start+i] = s
				if err == nil {
					err = subs[stop+i].Cancel()
				}
				errs <- err
			}()
		}
		for range n {
			select {
			case err := <-errs:
				if err != nil {
					t.Fatalf("round %d: consuming or cancelling beside the others: %v", round, err)
				}
			case <-ctx.Done():
				t.Fatalf("round %d: a shared consumer's Consume or Cancel never returned", round)
			}
		}
	}
	// The half started last has one consumer on each queue; the other, none left.
	out := rabbittest.Ctl(t, "list_queues", "-p", vhostOf(t, url), "--no-table-headers", "name", "consumers")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, count, _ := strings.Cut(line, "\t")
		for i := range 2 * n {
			if name == queue(i) && (count == "1") != (i < n) {
				t.Errorf("%s has %s consumers after the last round", name, count)
			}
		}
	}
}

// Drain takes what waits in a queue nobody consumes, and nothing from one that has a
// consumer: those messages are the consumer's (a component the registry found dead that
// consumes again by the time the drain comes).
func TestDrainLeavesAConsumedQueue(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := ctxFor(t)
	tr := dial(t, url)
	sid := wire.SessionID("Drained")
	q := wire.RecieveQueue(sid)
	if err := tr.DeclareSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	publishWait(t, tr, q, []byte("waiting"), nil)
	if got, err := tr.Drain(ctx, q, 10); err != nil || len(got) != 1 || string(got[0].Body) != "waiting" {
		t.Fatalf("drain of an unconsumed queue: %v, %v", got, err)
	}
	in := newInbox()
	if _, err := tr.ConsumeExclusive(ctx, q, 1, in.deliver, nil); err != nil {
		t.Fatal(err)
	}
	publishWait(t, tr, q, []byte("first"), nil)
	publishWait(t, tr, q, []byte("second"), nil)
	first := in.next(t) // unacknowledged: "second" waits, ready
	if got, err := tr.Drain(ctx, q, 10); !errors.Is(err, bridge.ErrInUse) || len(got) != 0 {
		t.Fatalf("drain of a consumed queue: %d taken, %v; want none and ErrInUse", len(got), err)
	}
	if err := first.Ack(); err != nil {
		t.Fatal(err)
	}
	if d := in.next(t); string(d.Body) != "second" {
		t.Fatalf("the consumer got %q, want the message the drain left", d.Body)
	}
}

// A consumer that starts while the registry drains its queue (the component came back
// just after a probe found it dead) gets every message: those the drain had taken since
// it last counted the consumers are requeued, and the drain ends with ErrInUse.
func TestDrainGivesBackToAConsumerThatStarts(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := ctxFor(t)
	tr, back := dial(t, url), dial(t, url)
	sid := wire.SessionID("CameBack")
	q := wire.RecieveQueue(sid)
	if err := tr.DeclareSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	const n = 30
	for i := range n {
		publishWait(t, tr, q, []byte(strconv.Itoa(i)), nil)
	}
	in := newInbox()
	tr.OnDrainGetForTest(func(taken int) {
		if taken == 5 { // the component consumes its queue again
			if _, err := back.ConsumeExclusive(ctx, q, n, in.deliver, nil); err != nil {
				t.Error(err)
			}
		}
	})
	if got, err := tr.Drain(ctx, q, 100); !errors.Is(err, bridge.ErrInUse) || len(got) != 0 {
		t.Fatalf("drain while the consumer started: %d taken, %v; want none and ErrInUse", len(got), err)
	}
	seen := map[string]bool{}
	for len(seen) < n {
		d := in.next(t)
		seen[string(d.Body)] = true
		if err := d.Ack(); err != nil {
			t.Fatal(err)
		}
	}
}

// A delivery of a shared consumer is forwarded on its own channel without a publisher
// confirm: the copy reaches its queue, the delivery is acknowledged (nothing comes back
// when its consumer is cancelled), and a copy for a queue that does not exist comes back
// to the NotifyReturn callback with its body and headers. A forward is refused while the
// channel waits for an RPC, and a delivery of a consumer with a channel of its own cannot
// be forwarded.
func TestForwardPublishesThenAcknowledges(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := ctxFor(t)
	tr := dial(t, url)
	returns := make(chan bridge.Message, 1)
	var returnedTo atomic.Value
	tr.NotifyReturn(func(queue string, m bridge.Message) {
		returnedTo.Store(queue)
		returns <- m
	})
	from, to := wire.SessionID("forward-from"), wire.SessionID("forward-to")
	for _, sid := range []string{from, to} {
		if err := tr.DeclareSession(ctx, sid); err != nil {
			t.Fatal(err)
		}
	}
	in, out := newInbox(), newInbox()
	sub, err := tr.ConsumeExclusiveShared(ctx, wire.SendQueue(from), 10, in.deliver, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Consume(ctx, wire.RecieveQueue(to), 10, out.deliver); err != nil {
		t.Fatal(err)
	}

	publishWait(t, tr, wire.SendQueue(from), []byte("routed"), map[string]any{"k": "v"})
	d := in.next(t)
	if !d.CanForward() {
		t.Fatal("a shared consumer's delivery cannot be forwarded")
	}
	// While an RPC of its channel waits for the broker, a forward would wait behind it:
	// it is refused, and the delivery stays unsettled for the ordinary way.
	release := tr.HoldSharedRPCForTest(wire.SendQueue(from), 10)
	err = d.Forward(wire.RecieveQueue(to), d.Body, d.Headers)
	release()
	if !errors.Is(err, bridge.ErrNotForwardable) || !d.CanForward() {
		t.Fatalf("Forward while the channel waits for an RPC: %v (can forward after: %v), want ErrNotForwardable, unsettled", err, d.CanForward())
	}
	if err := d.Forward(wire.RecieveQueue(to), d.Body, d.Headers); err != nil {
		t.Fatalf("Forward: %v", err)
	}
	if d.CanForward() {
		t.Fatal("a forwarded delivery can be forwarded again")
	}
	if got := out.next(t); string(got.Body) != "routed" || got.Headers["k"] != "v" {
		t.Fatalf("forwarded copy: %q %v", got.Body, got.Headers)
	} else if err := got.Ack(); err != nil {
		t.Fatal(err)
	}

	publishWait(t, tr, wire.SendQueue(from), []byte("lost"), map[string]any{"k": "w"})
	d = in.next(t)
	if err := d.Forward("recieve-nobody", d.Body, d.Headers); err != nil {
		t.Fatalf("Forward to a missing queue: %v", err)
	}
	select {
	case m := <-returns:
		if string(m.Body) != "lost" || m.Headers["k"] != "w" || returnedTo.Load() != "recieve-nobody" {
			t.Fatalf("returned %q %v to %v", m.Body, m.Headers, returnedTo.Load())
		}
	case <-ctx.Done():
		t.Fatal("the message forwarded to a missing queue did not come back")
	}
	if n := len(out.ch); n != 0 {
		t.Fatalf("%d more copies reached the queue: the refused forward published", n)
	}

	// Both deliveries were acknowledged: after the cancel the queue is empty.
	if err := sub.Cancel(); err != nil {
		t.Fatal(err)
	}
	if _, ready, err := tr.Stat(ctx, wire.SendQueue(from)); err != nil || ready != 0 {
		t.Fatalf("the forwarded deliveries' queue after the cancel: %d ready (%v), want 0: acknowledged", ready, err)
	}

	publishWait(t, tr, wire.SendQueue(to), []byte("own channel"), nil)
	own := newInbox()
	if _, err := tr.Consume(ctx, wire.SendQueue(to), 10, own.deliver); err != nil {
		t.Fatal(err)
	}
	d = own.next(t)
	if d.CanForward() {
		t.Fatal("a delivery on a channel of its own can be forwarded")
	}
	if err := d.Forward(wire.RecieveQueue(from), d.Body, nil); !errors.Is(err, bridge.ErrNotForwardable) {
		t.Fatalf("Forward on a channel of its own: %v, want ErrNotForwardable", err)
	}
	if err := d.Ack(); err != nil {
		t.Fatalf("a delivery refused a forward is still unsettled: %v", err)
	}
}

// A queue this transport declared a moment ago, finding no consumer, is consumed on a
// shared channel without counting its consumers again: the declare's answer counted
// them (a component declares its pair, then consumes its queue at once). A count is
// used once, and one that found a consumer is not used: such queues are counted first,
// so that a consumer there is refused without closing the shared channel.
func TestDeclaredQueueIsNotCountedAgain(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	ctx := ctxFor(t)
	tr := dial(t, url)
	fresh, held := wire.SessionID("count-fresh"), wire.SessionID("count-held")
	if err := tr.DeclareSession(ctx, held); err != nil {
		t.Fatal(err)
	}
	if _, err := rabbittest.Channel(t, url).Consume(wire.RecieveQueue(held), "", false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	for _, sid := range []string{held, fresh} { // held's declare counts the raw consumer
		if err := tr.DeclareSession(ctx, sid); err != nil {
			t.Fatal(err)
		}
	}
	consume := func(queue string, want error, recounts int64) {
		t.Helper()
		before := tr.RecountsForTest()
		_, err := tr.ConsumeExclusiveShared(ctx, queue, 10, func(*bridge.Delivery) {}, nil)
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Fatalf("consuming %s: %v, want %v", queue, err, want)
		}
		if n := tr.RecountsForTest() - before; n != recounts {
			t.Fatalf("consuming %s: %d passive declares to count its consumers, want %d", queue, n, recounts)
		}
	}
	consume(wire.RecieveQueue(fresh), nil, 0)            // counted by its declare
	consume(wire.SendQueue(fresh), nil, 0)               // counted by its declare
	consume(wire.SendQueue(fresh), bridge.ErrInUse, 1)   // that count is used up
	consume(wire.RecieveQueue(held), bridge.ErrInUse, 1) // its declare found a consumer
}
