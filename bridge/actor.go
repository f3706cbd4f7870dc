package bridge

import (
	"context"
	"errors"
	"fmt"
	"github.com/at-technology/atqueue/supervision"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/wire"
)

// Messages the bridge actor understands.
type (
	// Publish puts Body on Queue. Done (may be nil) is called once with the outcome,
	// from a transport goroutine; it must not block.
	Publish struct {
		Queue   string
		Body    []byte
		Headers wire.Headers
		Done    func(error)
		// Expiration, when positive, drops the message if nobody consumed it in time
		// (on transports that implement Expirer; others keep it).
		Expiration time.Duration
		// FailFast, when set, calls Done(ErrConnectionLost) at once, without publishing,
		// if the transport implements Connectivity and is not connected. Unset, a publish
		// made while disconnected waits for the connection (within the transport's
		// confirm timeout).
		FailFast bool
	}
	// Open declares Session's queue pair (when Session is not "") and consumes Queue,
	// calling Deliver for each delivery. The bridge answers the sender with *Opened.
	Open struct {
		Session  string
		Queue    string
		Prefetch int
		Deliver  func(*Delivery)
		// Deadline, when set, bounds declaring and consuming: an asker that has given up
		// must not be left with a consumer nobody cancels.
		Deadline time.Time
	}
	// Opened answers Open.
	Opened struct {
		Queue string
		Sub   Subscription
		Err   error
	}
	// Release cancels a subscription that Open returned.
	Release struct{ Sub Subscription }
	// Probe asks how many consumers Queue has; the bridge answers the sender with *Probed.
	// Tag is returned unchanged for the asker's bookkeeping.
	Probe struct {
		Queue string
		Tag   any
	}
	// Probed answers Probe. Err is ErrUnsupported when the transport cannot tell.
	Probed struct {
		Queue     string
		Tag       any
		Consumers int
		Err       error
	}
)

// bridgeActor maps Publish/Open/Release messages onto a Transport. Anything that can wait
// on the network (declaring, consuming, cancelling) runs on goroutines the actor owns and
// reports back as messages, so its mailbox never blocks; publishing is handed to the
// transport, which never blocks either.
type bridgeActor struct {
	t      Transport
	wg     *sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

type openDone struct {
	to  *actor.PID
	res *Opened
}

// Props returns the props of a bridge actor over t. The actor does not own t: whoever
// made t closes it after the actor has stopped.
func Props(t Transport) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		return &bridgeActor{t: t, wg: &sync.WaitGroup{}}
	})
}

func (b *bridgeActor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Started:
		b.ctx, b.cancel = context.WithCancel(context.Background())
	case *supervision.InjectedFailure:
		panic(m)
	case *Publish:
		if m.FailFast {
			if cn, ok := b.t.(Connectivity); ok && !cn.Connected() {
				if m.Done != nil {
					m.Done(ErrConnectionLost)
				}
				return
			}
		}
		if ex, ok := b.t.(Expirer); ok && m.Expiration > 0 {
			ex.PublishExpiring(m.Queue, m.Body, m.Headers, m.Expiration, m.Done)
			return
		}
		b.t.Publish(m.Queue, m.Body, m.Headers, m.Done)
	case *Open:
		to := c.Sender()
		self := c.Self()
		sys := c.ActorSystem()
		ctx, cancel := b.ctx, context.CancelFunc(func() {})
		if !m.Deadline.IsZero() {
			ctx, cancel = context.WithDeadline(b.ctx, m.Deadline)
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			defer cancel()
			res := &Opened{Queue: m.Queue}
			if m.Session != "" {
				res.Err = b.t.DeclareSession(ctx, m.Session)
			}
			if res.Err == nil {
				res.Sub, res.Err = b.t.Consume(ctx, m.Queue, m.Prefetch, m.Deliver)
			}
			sys.Root.Send(self, &openDone{to: to, res: res})
		}()
	case *openDone:
		if m.to != nil {
			c.Send(m.to, m.res)
		} else if m.res.Sub != nil {
			_ = m.res.Sub.Cancel()
		}
	case *Probe:
		to := c.Sender()
		sys := c.ActorSystem()
		ctx := b.ctx
		p, ok := b.t.(Prober)
		if !ok {
			c.Respond(&Probed{Queue: m.Queue, Tag: m.Tag, Err: ErrUnsupported})
			return
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			n, err := p.Consumers(ctx, m.Queue)
			if to != nil {
				sys.Root.Send(to, &Probed{Queue: m.Queue, Tag: m.Tag, Consumers: n, Err: err})
			}
		}()
	case *Release:
		if m.Sub == nil {
			return
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			_ = m.Sub.Cancel()
		}()
	case *actor.Stopping, *actor.Restarting:
		b.cancel()
		b.wg.Wait()
	}
}

// OpenFrom asks the bridge at pid to Open, from outside any actor, and waits for the
// answer within ctx (or within timeout when ctx has no deadline).
func OpenFrom(ctx context.Context, root *actor.RootContext, pid *actor.PID, m *Open, timeout time.Duration) (Subscription, error) {
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	if timeout <= 0 {
		return nil, context.DeadlineExceeded
	}
	// The bridge gives up a little before the future does, so that a consumer it opens is
	// always handed to someone who still waits for it.
	m.Deadline = time.Now().Add(timeout * 9 / 10)
	res, err := root.RequestFuture(pid, m, timeout).Result()
	if err != nil {
		if errors.Is(err, actor.ErrTimeout) {
			return nil, fmt.Errorf("opening %s: %w", m.Queue, context.DeadlineExceeded)
		}
		return nil, fmt.Errorf("opening %s: %w", m.Queue, err)
	}
	o, ok := res.(*Opened)
	if !ok {
		return nil, fmt.Errorf("opening %s: unexpected answer %T", m.Queue, res)
	}
	return o.Sub, o.Err
}
