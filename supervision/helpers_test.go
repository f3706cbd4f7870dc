package supervision_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/at-technology/atqueue/supervision"
)

// wait bounds every wait on a channel; nothing in these tests should come close.
const wait = 5 * time.Second

func newSystem(t *testing.T) *actor.ActorSystem {
	t.Helper()
	sys := actor.NewActorSystem(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger {
			return slog.New(slog.NewTextHandler(io.Discard, nil))
		}),
		actor.WithDeadLetterThrottleInterval(10*time.Millisecond),
	)
	t.Cleanup(sys.Shutdown)
	return sys
}

// newTree makes a tree that reports events on the returned channel and is stopped in
// t.Cleanup (before the system is shut down).
func newTree(t *testing.T, sys *actor.ActorSystem, p supervision.Policy) (*supervision.Tree, <-chan supervision.Event) {
	t.Helper()
	events := make(chan supervision.Event, 64)
	tree, err := supervision.NewTree(sys.Root, "tree", p, func(e supervision.Event) { events <- e })
	if err != nil {
		t.Fatalf("NewTree: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := tree.Stop(ctx); err != nil {
			t.Errorf("cleanup: Stop: %v", err)
		}
	})
	return tree, events
}

// note is what a probe reports: one lifecycle message, with the time it was received.
type note struct {
	name string
	msg  any
	at   time.Time
}

func (n note) String() string { return fmt.Sprintf("%s %T", n.name, n.msg) }

type (
	crash struct{ reason any }
	incr  struct{}
	get   struct{ reply chan<- int }
)

// probe is a test actor: it reports its lifecycle, panics on crash and counts incr.
type probe struct {
	name  string
	notes chan<- note
	count int
}

func probeProps(name string, notes chan<- note) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor { return &probe{name: name, notes: notes} })
}

func (p *probe) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started, *actor.Restarting, *actor.Stopping, *actor.Stopped:
		p.notes <- note{name: p.name, msg: m, at: time.Now()}
	case crash:
		panic(m.reason)
	case incr:
		p.count++
	case get:
		m.reply <- p.count
	}
}

// notes is a probe channel; its buffer only has to hold what one test produces.
func notes() chan note { return make(chan note, 256) }

func spawn(t *testing.T, tree *supervision.Tree, name string, props *actor.Props) *actor.PID {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	pid, err := tree.Spawn(ctx, name, props)
	if err != nil {
		t.Fatalf("Spawn(%q): %v", name, err)
	}
	return pid
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("no %s within %v", what, wait)
		panic("unreachable")
	}
}

// expect receives len(want) notes and checks them in order; it returns the last one.
func expect(t *testing.T, ch <-chan note, want ...note) note {
	t.Helper()
	var got note
	for _, w := range want {
		got = recv(t, ch, w.String())
		if got.name != w.name || fmt.Sprintf("%T", got.msg) != fmt.Sprintf("%T", w.msg) {
			t.Fatalf("got note %v, want %v", got, w)
		}
	}
	return got
}

func started(name string) note    { return note{name: name, msg: &actor.Started{}} }
func restarting(name string) note { return note{name: name, msg: &actor.Restarting{}} }
func stopping(name string) note   { return note{name: name, msg: &actor.Stopping{}} }
func stopped(name string) note    { return note{name: name, msg: &actor.Stopped{}} }

func expectNone[T any](t *testing.T, ch <-chan T) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("unexpected %v", v)
	default:
	}
}

func count(t *testing.T, sys *actor.ActorSystem, pid *actor.PID) int {
	t.Helper()
	reply := make(chan int, 1)
	sys.Root.Send(pid, get{reply: reply})
	return recv(t, reply, "count from "+pid.Id)
}

func expectEvent(t *testing.T, events <-chan supervision.Event, child *actor.PID, d supervision.Directive, restarts int) supervision.Event {
	t.Helper()
	ev := recv(t, events, "event "+d.String())
	if !ev.Child.Equal(child) || ev.Directive != d || ev.Restarts != restarts {
		t.Fatalf("event = {Child: %v, Directive: %v, Restarts: %d}, want {%v, %v, %d}",
			ev.Child, ev.Directive, ev.Restarts, child, d, restarts)
	}
	return ev
}
