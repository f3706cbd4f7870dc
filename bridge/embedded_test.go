package bridge_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/wire"
)

func collect(n int) (func(*bridge.Delivery), chan *bridge.Delivery) {
	ch := make(chan *bridge.Delivery, n)
	return func(d *bridge.Delivery) { ch <- d }, ch
}

func next(t *testing.T, ch chan *bridge.Delivery) *bridge.Delivery {
	t.Helper()
	select {
	case d := <-ch:
		return d
	case <-time.After(2 * time.Second):
		t.Fatal("no delivery")
		return nil
	}
}

func none(t *testing.T, ch chan *bridge.Delivery) {
	t.Helper()
	select {
	case d := <-ch:
		t.Fatalf("unexpected delivery %s", d.Body)
	default:
	}
}

func TestEmbeddedSemantics(t *testing.T) {
	e := bridge.NewEmbedded()
	ctx := context.Background()
	if err := e.DeclareSession(ctx, "s"); err != nil {
		t.Fatal(err)
	}
	q := wire.RecieveQueue("s")
	done := make(chan error, 10)
	for _, b := range []string{"1", "2", "3"} {
		e.Publish(q, []byte(b), wire.Headers{"auth_token": nil}, func(err error) { done <- err })
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	deliver, ch := collect(10)
	sub, err := e.Consume(ctx, q, 2, deliver)
	if err != nil {
		t.Fatal(err)
	}
	// Prefetch 2: the third waits until one is settled.
	d1, d2 := next(t, ch), next(t, ch)
	none(t, ch)
	if string(d1.Body) != "1" || string(d2.Body) != "2" {
		t.Fatalf("order: %s %s", d1.Body, d2.Body)
	}
	if _, ok := d1.Headers["auth_token"]; !ok {
		t.Fatal("headers lost")
	}
	_ = d1.Ack()
	d3 := next(t, ch)
	// Nack with requeue: delivered again, marked redelivered, before what follows.
	_ = d2.Nack(true)
	again := next(t, ch)
	if string(again.Body) != "2" || !again.Redelivered {
		t.Fatalf("requeued: %s redelivered=%v", again.Body, again.Redelivered)
	}
	if e.Depth(q) != 0 {
		t.Fatalf("depth %d", e.Depth(q))
	}
	// Cancel requeues the unacknowledged ones and delivers nothing afterwards.
	if err := sub.Cancel(); err != nil {
		t.Fatal(err)
	}
	e.Publish(q, []byte("4"), nil, nil)
	none(t, ch)
	if e.Depth(q) != 3 {
		t.Fatalf("after cancel depth = %d, want 3 (two requeued, one new)", e.Depth(q))
	}
	_ = d3.Ack() // settling after cancel is ignored
	if n, _ := e.Consumers(ctx, q); n != 0 {
		t.Fatalf("consumers = %d", n)
	}
}

func TestEmbeddedExpirationAndErrors(t *testing.T) {
	e := bridge.NewEmbedded()
	ctx := context.Background()
	_ = e.DeclareSession(ctx, "s")
	q := wire.SendQueue("s")
	e.PublishExpiring(q, []byte("old"), nil, time.Nanosecond, nil)
	e.Publish(q, []byte("new"), nil, nil)
	deliver, ch := collect(4)
	if _, err := e.Consume(ctx, q, 0, deliver); err != nil {
		t.Fatal(err)
	}
	if d := next(t, ch); string(d.Body) != "new" {
		t.Fatalf("expired message delivered: %s", d.Body)
	}
	errc := make(chan error, 1)
	e.Publish("send-nobody", []byte("x"), nil, func(err error) { errc <- err })
	if err := <-errc; !errors.Is(err, bridge.ErrNoQueue) {
		t.Fatalf("publish to a missing queue: %v", err)
	}
	_ = e.Close()
	if err := e.DeclareSession(ctx, "t"); !errors.Is(err, bridge.ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}
