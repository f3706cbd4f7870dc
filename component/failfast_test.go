package component_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/component"
)

// offline is an embedded transport that can pretend to have lost its connection.
type offline struct {
	*bridge.Embedded
	down atomic.Bool
}

// Connect gives the bridge a connection that is down while o is.
func (o *offline) Connect(ctx context.Context) (bridge.Transport, error) {
	t, err := o.Embedded.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &offlineConn{Transport: t, o: o}, nil
}

type offlineConn struct {
	bridge.Transport
	o *offline
}

func (c *offlineConn) Connected() bool { return !c.o.down.Load() }

// While the transport is disconnected, a fail-fast call ends at once with
// ErrConnectionLost; a plain one waits for its deadline.
func TestFailFastWhileDisconnected(t *testing.T) {
	tr := &offline{Embedded: bridge.NewEmbedded()}
	sys, err := actors.New(actors.WithBroker(tr))
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Shutdown(context.Background())
	ctx := ctxT(t)
	if _, err := sys.StartRegistry(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.Spawn(ctx, summator()); err != nil {
		t.Fatal(err)
	}
	caller, err := sys.Spawn(ctx, component.New("Caller"))
	if err != nil {
		t.Fatal(err)
	}
	tr.down.Store(true)
	begin := time.Now()
	err = caller.Call(ctx, "IntSummator", "int_sum", sumArgs{1, 2}, nil, component.FailFast())
	if !errors.Is(err, bridge.ErrConnectionLost) || time.Since(begin) > time.Second {
		t.Fatalf("fail-fast call: %v after %v", err, time.Since(begin))
	}
	tr.down.Store(false)
	var sum int
	if err := caller.Call(ctx, "IntSummator", "int_sum", sumArgs{1, 2}, &sum, component.FailFast()); err != nil || sum != 3 {
		t.Fatalf("connected again: %d %v", sum, err)
	}
}
