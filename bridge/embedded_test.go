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
	// Nack with requeue: back in the queue, marked redelivered, and not offered to the
	// consumer that gave it back.
	_ = d2.Nack(true)
	none(t, ch)
	if e.Depth(q) != 1 {
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
	deliver2, ch2 := collect(10)
	if _, err := e.Consume(ctx, q, 10, deliver2); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"3", "2", "4"} {
		d := next(t, ch2)
		if string(d.Body) != want || d.Redelivered != (want != "4") {
			t.Fatalf("got %s redelivered=%v, want %s", d.Body, d.Redelivered, want)
		}
	}
	_ = d3.Ack() // settling after cancel is ignored
	if n, _ := e.Consumers(ctx, q); n != 1 {
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

// A consumer that gives a message back is not offered it again, and what stands behind
// it still reaches it (a registrant skipping another component's answer).
func TestEmbeddedNackedMessageDoesNotSpin(t *testing.T) {
	e := bridge.NewEmbedded()
	ctx := context.Background()
	_ = e.DeclareSession(ctx, "s")
	q := wire.RecieveQueue("s")
	e.Publish(q, []byte("not mine"), nil, nil)
	e.Publish(q, []byte("mine"), nil, nil)
	var offers int
	got := make(chan string, 4)
	sub, err := e.Consume(ctx, q, 1, func(d *bridge.Delivery) {
		offers++
		if string(d.Body) != "mine" {
			_ = d.Nack(true)
			return
		}
		_ = d.Ack()
		got <- string(d.Body)
	})
	if err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "mine" {
		t.Fatal(s)
	}
	_ = sub.Cancel()
	if offers != 2 {
		t.Fatalf("offered %d times, want 2", offers)
	}
	// Another consumer still gets the message the first gave back.
	deliver, ch := collect(2)
	if _, err := e.Consume(ctx, q, 1, deliver); err != nil {
		t.Fatal(err)
	}
	if d := next(t, ch); string(d.Body) != "not mine" || !d.Redelivered {
		t.Fatalf("got %s", d.Body)
	}
}

// Drain takes what waits in a queue nobody consumes, and nothing from one that has a
// consumer: those messages are the consumer's.
func TestEmbeddedDrainLeavesAConsumedQueue(t *testing.T) {
	e := bridge.NewEmbedded()
	ctx := context.Background()
	sid := wire.SessionID("Drained")
	q := wire.RecieveQueue(sid)
	if err := e.DeclareSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	e.Publish(q, []byte("waiting"), nil, nil)
	if got, err := e.Drain(ctx, q, 10); err != nil || len(got) != 1 || string(got[0].Body) != "waiting" {
		t.Fatalf("drain of an unconsumed queue: %v, %v", got, err)
	}
	deliver, ch := collect(4)
	if _, err := e.Consume(ctx, q, 1, deliver); err != nil {
		t.Fatal(err)
	}
	e.Publish(q, []byte("first"), nil, nil)
	e.Publish(q, []byte("second"), nil, nil)
	first := next(t, ch) // unacknowledged: "second" waits, ready
	if got, err := e.Drain(ctx, q, 10); !errors.Is(err, bridge.ErrInUse) || len(got) != 0 {
		t.Fatalf("drain of a consumed queue: %d taken, %v; want none and ErrInUse", len(got), err)
	}
	if err := first.Ack(); err != nil {
		t.Fatal(err)
	}
	if d := next(t, ch); string(d.Body) != "second" {
		t.Fatalf("the consumer got %q, want the message the drain left", d.Body)
	}
}
