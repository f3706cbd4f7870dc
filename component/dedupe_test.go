package component_test

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/wire"
)

// recorder is an embedded transport that keeps a copy of every body published on the
// queues it watches.
type recorder struct {
	*bridge.Embedded
	mu    sync.Mutex
	watch string
	got   chan []byte
}

// Connect gives the bridge a connection that records what it publishes.
func (r *recorder) Connect(ctx context.Context) (bridge.Transport, error) {
	t, err := r.Embedded.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &recording{Transport: t, r: r}, nil
}

type recording struct {
	bridge.Transport
	r *recorder
}

func (c *recording) Publish(queue string, body []byte, h wire.Headers, done func(error)) {
	c.r.mu.Lock()
	watched := queue == c.r.watch
	c.r.mu.Unlock()
	if watched {
		c.r.got <- body
	}
	c.Transport.Publish(queue, body, h, done)
}

// recordedSystem starts a system with a registry over a recorder, shut down at cleanup.
func recordedSystem(t *testing.T, opts ...actors.Option) (*recorder, *actors.System) {
	t.Helper()
	rec := &recorder{Embedded: bridge.NewEmbedded(), got: make(chan []byte, 64)}
	sys, err := actors.New(append([]actors.Option{actors.WithBroker(rec)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Shutdown(context.Background()) })
	if _, err := sys.StartRegistry(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	return rec, sys
}

// watchAnswers records what the component called name publishes.
func (r *recorder) watchAnswers(name string) {
	r.mu.Lock()
	r.watch = wire.SendQueue(wire.SessionID(name))
	r.mu.Unlock()
}

// A request delivered twice runs once; the second delivery gets the stored answer.
func TestRedeliveredRequestRunsOnce(t *testing.T) {
	rec, sys := recordedSystem(t)
	ctx := ctxT(t)
	var runs atomic.Int32
	c := component.New("Counter")
	component.Method(c, "bump", func(context.Context, struct{}) (int32, error) { return runs.Add(1), nil })
	h, err := sys.Spawn(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	rec.watchAnswers("Counter")

	req := wire.Envelope{Sender: "Elsewhere", Reciever: "Counter", MessageID: "dup-1",
		Message: []byte(`{"type": "exec_method", "method": "bump", "args": {}}`)}
	body, _ := req.Marshal()
	var answers [][]byte
	for i := 0; i < 2; i++ {
		rec.Embedded.Publish(wire.RecieveQueue(h.SessionID()), body, nil, nil)
		select {
		case a := <-rec.got:
			answers = append(answers, a)
		case <-time.After(5 * time.Second):
			t.Fatalf("delivery %d was not answered", i+1)
		}
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("the method ran %d times", n)
	}
	if !bytes.Equal(answers[0], answers[1]) {
		t.Fatalf("the second answer was not the stored one:\n%s\n%s", answers[0], answers[1])
	}
}
