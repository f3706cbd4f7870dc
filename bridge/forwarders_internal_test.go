package bridge

import (
	"log/slog"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// peekState asks the bridge actor, through the test's middleware, for its lists.
type peekState struct{ reply chan peeked }

type peeked struct {
	up                   bool
	forwarders, watchers int
}

// peek answers peekState from inside the bridge actor, where its state may be read.
func peek(next actor.ReceiverFunc) actor.ReceiverFunc {
	return func(c actor.ReceiverContext, env *actor.MessageEnvelope) {
		if p, ok := env.Message.(*peekState); ok {
			st := c.Actor().(*bridgeActor).st
			p.reply <- peeked{up: st.t != nil && st.up, forwarders: len(st.forwarders), watchers: len(st.watchers)}
			return
		}
		next(c, env)
	}
}

// The bridge forgets the actors it sends returned messages and link changes to once they
// stop: a registry restarted in the process, or a component gone, leaves nothing behind
// to be sent dead letters for the rest of the process's life.
func TestBridgeForgetsStoppedActors(t *testing.T) {
	sys := actor.NewActorSystem(actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return slog.New(slog.DiscardHandler) }))
	defer sys.Shutdown()
	br := sys.Root.Spawn(Props(NewEmbedded()).Configure(actor.WithReceiverMiddleware(peek)))
	defer func() { _ = sys.Root.StopFuture(br).Wait() }()
	await := func(what string, ok func(peeked) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			ch := make(chan peeked, 1)
			sys.Root.Send(br, &peekState{reply: ch})
			select {
			case p := <-ch:
				if ok(p) {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s: the bridge holds %+v", what, p)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: the bridge did not answer", what)
			}
		}
	}
	await("connected", func(p peeked) bool { return p.up })

	returned := make(chan *Returned, 1)
	fwd := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if r, ok := c.Message().(*Returned); ok {
			returned <- r
		}
	}))
	d := NewDelivery("send-x", []byte("m"), nil, false, &forwardAcker{})
	sys.Root.Send(br, &Publish{Queue: "recieve-y", Body: d.Body, Settle: d, Forward: true, Notify: fwd})
	watcher := sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if _, ok := c.Message().(*actor.Started); ok {
			c.Request(br, &Watch{})
		}
	}))
	await("a forwarder and a watcher", func(p peeked) bool { return p.forwarders == 1 && p.watchers == 1 })
	sys.Root.Send(br, &returnedMsg{r: &Returned{Queue: "recieve-gone"}})
	select {
	case r := <-returned:
		if r.Queue != "recieve-gone" {
			t.Fatalf("the forwarder was sent %+v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the forwarder was not sent the returned message")
	}

	for _, pid := range []*actor.PID{fwd, watcher} {
		if err := sys.Root.StopFuture(pid).Wait(); err != nil {
			t.Fatal(err)
		}
	}
	await("both stopped", func(p peeked) bool { return p.forwarders == 0 && p.watchers == 0 })
}
