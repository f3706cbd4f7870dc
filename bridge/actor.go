package bridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/at-technology/atqueue/supervision"

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
		// Exclusive makes the consumer the queue's only one (Transport.ConsumeExclusive):
		// Opened.Err matches ErrInUse while another consumer holds the queue. Lost (may be
		// nil) is called once, from a transport goroutine, if the transport loses the
		// queue to another consumer later; it must not block.
		Exclusive bool
		Lost      func(error)
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
	// Drain asks for up to Max messages waiting in Queue, taken without consuming it; the
	// bridge answers the sender with *Drained. Tag is returned unchanged.
	Drain struct {
		Queue string
		Max   int
		Tag   any
	}
	// Drained answers Drain. Err is ErrUnsupported when the transport cannot drain.
	Drained struct {
		Queue string
		Tag   any
		Msgs  []Message
		Err   error
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

	// queueOf names the queue of each subscription it opened; releasing holds, by queue,
	// the cancels still running. An Open waits for the cancels of its queue asked before
	// it, so that an exclusive consumer released and opened again in that order (a
	// restarted registry) does not find its own previous consumer in the way.
	queueOf   map[Subscription]string
	releasing map[string][]chan struct{}
}

// released reports a finished cancel to the bridge actor.
type released struct {
	queue string
	done  chan struct{}
}

type openDone struct {
	to  *actor.PID
	res *Opened
}

// Props returns the props of a bridge actor over t. The actor does not own t: whoever
// made t closes it after the actor has stopped.
func Props(t Transport) *actor.Props {
	return actor.PropsFromProducer(func() actor.Actor {
		return &bridgeActor{t: t, wg: &sync.WaitGroup{}, queueOf: map[Subscription]string{}, releasing: map[string][]chan struct{}{}}
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
		before := slices.Clone(b.releasing[m.Queue])
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			defer cancel()
			res := &Opened{Queue: m.Queue}
			for _, done := range before {
				select {
				case <-done:
				case <-ctx.Done():
				}
			}
			if m.Session != "" {
				res.Err = b.t.DeclareSession(ctx, m.Session)
			}
			if res.Err == nil {
				if m.Exclusive {
					res.Sub, res.Err = b.t.ConsumeExclusive(ctx, m.Queue, m.Prefetch, m.Deliver, m.Lost)
				} else {
					res.Sub, res.Err = b.t.Consume(ctx, m.Queue, m.Prefetch, m.Deliver)
				}
			}
			sys.Root.Send(self, &openDone{to: to, res: res})
		}()
	case *openDone:
		if m.to != nil {
			if m.res.Sub != nil {
				b.queueOf[m.res.Sub] = m.res.Queue
			}
			c.Send(m.to, m.res)
		} else if m.res.Sub != nil {
			_ = m.res.Sub.Cancel()
		}
	case *released:
		b.releasing[m.queue] = slices.DeleteFunc(b.releasing[m.queue], func(d chan struct{}) bool { return d == m.done })
		if len(b.releasing[m.queue]) == 0 {
			delete(b.releasing, m.queue)
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
	case *Drain:
		to := c.Sender()
		sys := c.ActorSystem()
		ctx := b.ctx
		dr, ok := b.t.(Drainer)
		if !ok {
			c.Respond(&Drained{Queue: m.Queue, Tag: m.Tag, Err: ErrUnsupported})
			return
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			msgs, err := dr.Drain(ctx, m.Queue, m.Max)
			if to != nil {
				sys.Root.Send(to, &Drained{Queue: m.Queue, Tag: m.Tag, Msgs: msgs, Err: err})
			}
		}()
	case *Release:
		if m.Sub == nil {
			return
		}
		queue, known := b.queueOf[m.Sub]
		delete(b.queueOf, m.Sub)
		done := make(chan struct{})
		if known {
			b.releasing[queue] = append(b.releasing[queue], done)
		}
		self, sys := c.Self(), c.ActorSystem()
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			_ = m.Sub.Cancel()
			close(done)
			if known {
				sys.Root.Send(self, &released{queue: queue, done: done})
			}
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
