package component

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/supervision"
	"github.com/at-technology/atqueue/wire"
)

// Handle is a running component: it answers requests addressed to its name and makes
// calls to other components. Its methods are safe for concurrent use.
type Handle struct {
	def   *Component
	sid   string
	root  *actor.RootContext
	brPID *actor.PID
	pid   *actor.PID
	tree  *supervision.Tree
	log   *slog.Logger
	sub   bridge.Subscription

	mu      sync.Mutex
	pending map[string]chan outcome
	stopped bool

	workers sync.WaitGroup
	// unsettled counts the requests whose answer is on its way to the transport: Stop
	// releases the consumer only after they are acknowledged.
	unsettled sync.WaitGroup
	jobs      chan job // idle workers wait here; closed at shutdown
	seen      *seen    // recent requests and their answers
	stopOnce  sync.Once
	// leaving is set when Stop begins: the component leaves the registry on purpose and
	// must not register again.
	leaving atomic.Bool
	stopErr error
	done    chan struct{} // closed when the actor has stopped for good

	instance   string          // this run's id, sent with register and unregister
	baseCtx    context.Context // parent of every method's context; cancelled at shutdown
	cancelBase context.CancelFunc
}

// Name is the component's name.
func (h *Handle) Name() string { return h.def.name }

// SessionID is the session the registry gave the component.
func (h *Handle) SessionID() string { return h.sid }

// PID is the component actor's address (for tests and supervision probes).
func (h *Handle) PID() *actor.PID { return h.pid }

// Done is closed once the component has stopped, by Stop or because its supervisor gave up.
func (h *Handle) Done() <-chan struct{} { return h.done }

// CallOption changes one call.
type CallOption func(*callOpts)

type callOpts struct {
	headers  wire.Headers
	failFast bool
}

// FailFast makes a call fail at once with bridge.ErrConnectionLost while the transport
// has no connection, instead of waiting (within its deadline) for the reconnection.
func FailFast() CallOption { return func(o *callOpts) { o.failFast = true } }

// WithToken sends token as the auth_token header.
func WithToken(token string) CallOption {
	return func(o *callOpts) { o.headers = wire.WithAuthToken(token) }
}

// WithHeaders sends an AMQP header table with the request.
func WithHeaders(h wire.Headers) CallOption { return func(o *callOpts) { o.headers = h } }

// Call runs method of the component receiver with args (a struct, a map or nil) and
// decodes the result into result (a pointer, or nil to discard it). Numbers travel as a
// Python peer writes and reads them: NaN and ±Inf as NaN and ±Infinity, integers beyond
// int64 exact (decode them into a *big.Int). It waits until the answer arrives or ctx
// ends; without a deadline on ctx the component's call timeout applies. Errors: see
// ErrUnknownComponent and its siblings, *RemoteError.
func (h *Handle) Call(ctx context.Context, receiver, method string, args, result any, opts ...CallOption) error {
	if args == nil {
		args = struct{}{}
	}
	a, err := wire.Compact(args)
	if err != nil {
		return fmt.Errorf("encoding arguments of %s.%s: %w", receiver, method, err)
	}
	if len(a) == 0 || a[0] != '{' {
		return fmt.Errorf("%w: arguments of %s.%s must encode as a JSON object", ErrInvalidArguments, receiver, method)
	}
	msg := wire.Object{{Key: "type", Value: wire.TypeExecMethod}, {Key: "method", Value: method}, {Key: "args", Value: json.RawMessage(a)}}
	ans, err := h.Request(ctx, receiver, msg, opts...)
	if err != nil {
		return err
	}
	if ans.HasErrors {
		return &RemoteError{Receiver: receiver, Method: method, Kind: classify(ans.From, ans.Errors), Items: ans.Errors}
	}
	if result == nil || len(ans.Result) == 0 {
		return nil
	}
	if err := wire.Unmarshal(ans.Result, result); err != nil {
		return fmt.Errorf("%w: result of %s.%s: %v", ErrBadAnswer, receiver, method, err)
	}
	return nil
}

// Reply is an answer with the name of the party that sent it.
type Reply struct {
	wire.Answer
	From string
}

// Request sends message (anything that encodes as a JSON object) to receiver and waits
// for the answer, like Call. It is the building block of Call, Ping and the registry
// queries; an "errors" answer is returned as a Reply, not as an error.
func (h *Handle) Request(ctx context.Context, receiver string, message any, opts ...CallOption) (Reply, error) {
	f, err := h.Send(receiver, message, opts...)
	if err != nil {
		return Reply{}, err
	}
	return f.Wait(ctx)
}

// Future is a request in flight.
type Future struct {
	h        *Handle
	id       string
	receiver string
	ch       chan outcome
}

// Send publishes a request and returns its future at once.
func (h *Handle) Send(receiver string, message any, opts ...CallOption) (*Future, error) {
	var o callOpts
	for _, opt := range opts {
		opt(&o)
	}
	payload, err := wire.Compact(message)
	if err != nil {
		return nil, fmt.Errorf("encoding request to %s: %w", receiver, err)
	}
	env := wire.Envelope{Sender: h.def.name, Reciever: receiver, Message: payload, MessageID: wire.NewID()}
	body, err := env.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encoding request to %s: %w", receiver, err)
	}
	ch := make(chan outcome, 1)
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return nil, ErrStopped
	}
	h.pending[env.MessageID] = ch
	h.mu.Unlock()
	f := &Future{h: h, id: env.MessageID, receiver: receiver, ch: ch}
	h.root.Send(h.brPID, &bridge.Publish{Queue: wire.SendQueue(h.sid), Body: body, Headers: o.headers, FailFast: o.failFast, Done: func(err error) {
		if err != nil {
			f.fail(err)
		}
	}})
	return f, nil
}

// outcome completes a pending request: the answer, or why there is none.
type outcome struct {
	env wire.Envelope
	err error
}

// fail completes the future with a local error (the request could not be published).
func (f *Future) fail(err error) {
	f.h.mu.Lock()
	ch, ok := f.h.pending[f.id]
	delete(f.h.pending, f.id)
	f.h.mu.Unlock()
	if ok {
		ch <- outcome{err: err}
	}
}

// Wait blocks until the answer arrives or ctx ends (the call timeout applies when ctx has
// no deadline). A timed-out request is forgotten; a late answer is dropped.
func (f *Future) Wait(ctx context.Context) (Reply, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.h.def.callTimeout)
		defer cancel()
	}
	select {
	case out := <-f.ch:
		if out.err != nil {
			return Reply{}, fmt.Errorf("request to %s: %w", f.receiver, out.err)
		}
		env := out.env
		a, err := wire.DecodeAnswer(env.Message)
		if err != nil {
			return Reply{}, fmt.Errorf("%w from %s: %v", ErrBadAnswer, f.receiver, err)
		}
		return Reply{Answer: a, From: env.Sender}, nil
	case <-ctx.Done():
		f.h.forget(f.id)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Reply{}, fmt.Errorf("request to %s: %w (%w)", f.receiver, ErrTimeout, ctx.Err())
		}
		return Reply{}, fmt.Errorf("request to %s: %w", f.receiver, ctx.Err())
	}
}

func (h *Handle) forget(id string) {
	h.mu.Lock()
	delete(h.pending, id)
	h.mu.Unlock()
}

// resolve completes the pending request env answers; false when nobody waits for it.
func (h *Handle) resolve(env wire.Envelope) bool {
	h.mu.Lock()
	ch, ok := h.pending[env.AnswerTo]
	delete(h.pending, env.AnswerTo)
	h.mu.Unlock()
	if ok {
		ch <- outcome{env: env}
	}
	return ok
}

// Ping asks receiver for "pong".
func (h *Handle) Ping(ctx context.Context, receiver string) error {
	r, err := h.Request(ctx, receiver, wire.Object{{Key: "type", Value: wire.TypePing}})
	if err != nil {
		return err
	}
	var s string
	if r.HasErrors || json.Unmarshal(r.Result, &s) != nil || s != "pong" {
		return &RemoteError{Receiver: receiver, Kind: classify(r.From, r.Errors), Items: r.Errors}
	}
	return nil
}

// CheckRegistered asks the registry whether name is registered.
func (h *Handle) CheckRegistered(ctx context.Context, name string) (bool, error) {
	r, err := h.Request(ctx, wire.RegistryName, wire.Object{{Key: "type", Value: wire.TypeCheckRegistered}, {Key: "component", Value: name}})
	if err != nil {
		return false, err
	}
	var ok bool
	_ = json.Unmarshal(r.Result, &ok)
	return ok, nil
}

// Inspect returns the registry's record of name: {"broker": {"session_id"}, "component"}.
func (h *Handle) Inspect(ctx context.Context, name string) (json.RawMessage, error) {
	r, err := h.Request(ctx, wire.RegistryName, wire.Object{{Key: "type", Value: wire.TypeInspect}, {Key: "component", Value: name}})
	if err != nil {
		return nil, err
	}
	if r.HasErrors {
		return nil, &RemoteError{Receiver: wire.RegistryName, Kind: ErrUnknownComponent, Items: r.Errors}
	}
	return r.Raw, nil
}

// InspectAll returns every registration, keyed by name, in registration order.
func (h *Handle) InspectAll(ctx context.Context) (json.RawMessage, error) {
	r, err := h.Request(ctx, wire.RegistryName, wire.Object{{Key: "type", Value: wire.TypeInspectAll}})
	if err != nil {
		return nil, err
	}
	return r.Raw, nil
}

// Directory asks the registry for what it knows of every component, liveness included
// (a Go extension of the protocol: a Python registry does not answer it, so the call ends
// at ctx's deadline).
func (h *Handle) Directory(ctx context.Context) ([]wire.DirectoryEntry, error) {
	r, err := h.Request(ctx, wire.RegistryName, wire.Object{{Key: "type", Value: wire.TypeDirectory}})
	if err != nil {
		return nil, err
	}
	if r.HasErrors {
		return nil, &RemoteError{Receiver: wire.RegistryName, Kind: ErrRemote, Items: r.Errors}
	}
	var out []wire.DirectoryEntry
	if err := json.Unmarshal(r.Result, &out); err != nil {
		return nil, fmt.Errorf("%w from the registry: %v", ErrBadAnswer, err)
	}
	return out, nil
}

// Configurate sends a configurate request and returns its result.
func (h *Handle) Configurate(ctx context.Context, receiver string, config any, opts ...CallOption) (json.RawMessage, error) {
	r, err := h.Request(ctx, receiver, wire.Object{{Key: "type", Value: wire.TypeConfigurate}, {Key: "config", Value: config}}, opts...)
	if err != nil {
		return nil, err
	}
	if r.HasErrors {
		return nil, &RemoteError{Receiver: receiver, Kind: classify(r.From, r.Errors), Items: r.Errors}
	}
	return r.Result, nil
}

// unregisterWait bounds how long Stop waits for the registry to confirm the unregister.
const unregisterWait = 2 * time.Second

// Stop deregisters the component, stops its actor and waits for its running methods
// (bounded by ctx). It is idempotent; later calls return the first result.
func (h *Handle) Stop(ctx context.Context) error {
	h.stopOnce.Do(func() {
		// Leave the registry first and wait (briefly) for it to confirm, so that nothing
		// is left waiting in the queue once the component is gone. A component its
		// supervisor stopped has left already.
		select {
		case <-h.done:
		default:
			h.leaving.Store(true)
			uctx, cancel := context.WithTimeout(ctx, unregisterWait)
			if _, err := h.Request(uctx, wire.RegistryName, wire.Object{{Key: "type", Value: wire.TypeUnregister}},
				WithHeaders(wire.Headers{instanceHeader: h.instance})); err != nil {
				h.log.Warn("the registry did not confirm the unregister", "component", h.def.name, "err", err)
			}
			cancel()
		}
		h.stopErr = h.tree.Stop(ctx)
		select {
		case <-h.done:
		case <-ctx.Done():
			if h.stopErr == nil {
				h.stopErr = ctx.Err()
			}
		}
		waited := make(chan struct{})
		go func() { h.workers.Wait(); h.unsettled.Wait(); close(waited) }()
		select {
		case <-waited:
			h.seen.mu.Lock()
			if err := h.seen.j.close(); err != nil && h.stopErr == nil {
				h.stopErr = fmt.Errorf("closing the dedupe journal: %w", err)
			}
			h.seen.mu.Unlock()
		case <-ctx.Done():
			if h.stopErr == nil {
				h.stopErr = fmt.Errorf("methods still running: %w", ctx.Err())
			}
		}
		// Released only now, once the answers of the requests the methods served are
		// published and the requests acknowledged, so that none goes back to the queue to
		// run again at the next start.
		if h.leaving.Load() && h.sub != nil {
			h.root.Send(h.brPID, &bridge.Release{Sub: h.sub})
		}
	})
	return h.stopErr
}

// shutdown runs once when the actor stops for good: it fails the calls still waiting
// and, when the supervisor stopped the component, leaves the registry.
func (h *Handle) shutdown(c actor.Context) {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return
	}
	h.stopped = true
	pending := h.pending
	h.pending = map[string]chan outcome{}
	h.mu.Unlock()
	for _, ch := range pending {
		ch <- outcome{err: ErrStopped}
	}
	// Stop releases the consumer once the running methods have answered; a component
	// its supervisor stopped releases it now and drains its queue.
	if !h.leaving.Load() {
		if h.sub != nil {
			c.Send(h.brPID, &bridge.Release{Sub: h.sub})
		}
		env := wire.Envelope{Sender: h.def.name, Reciever: wire.RegistryName,
			Message: json.RawMessage(`{"type": "unregister"}`), MessageID: wire.NewID()}
		if body, err := env.Marshal(); err == nil {
			c.Send(h.brPID, &bridge.Publish{Queue: wire.SendQueue(h.sid), Body: body, Headers: wire.Headers{instanceHeader: h.instance}})
			if h.sub != nil {
				h.workers.Add(1)
				go h.drain(env.MessageID)
			}
		}
	}
	close(h.jobs)
	h.cancelBase()
	h.log.Info("component stopped", "component", h.def.name)
	close(h.done)
}
