package component

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/metrics"
	"github.com/at-technology/atqueue/wire"
)

// Handle is a running component, a thin face over its actor: everything the component
// knows (its pending calls, the requests it serves, its dedupe window, its registration)
// lives in the actor, and every method here is a message to it. Its methods are safe for
// concurrent use.
type Handle struct {
	def     *Component
	sid     string // written by the actor before Start returns; read-only after
	pid     *actor.PID
	root    *actor.RootContext
	log     *slog.Logger
	metrics *metrics.Metrics
	callers *callers // where the actor answers the calls made on the Handle

	done     chan struct{} // closed once the actor has stopped and its goroutines are gone
	stopErr  error         // written before done is closed
	stopOnce sync.Once
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
	// The request's message is written in one buffer, the arguments straight into it.
	buf := payloads.Get().(*[]byte)
	defer putPayload(buf)
	msg := append((*buf)[:0], `{"type":"`+wire.TypeExecMethod+`","method":`...)
	msg = wire.AppendString(msg, method)
	msg = append(msg, `,"args":`...)
	at := len(msg)
	msg, err := wire.AppendCompact(msg, args)
	*buf = msg[:0]
	if err != nil {
		return fmt.Errorf("encoding arguments of %s.%s: %w", receiver, method, err)
	}
	if len(msg) == at || msg[at] != '{' {
		return fmt.Errorf("%w: arguments of %s.%s must encode as a JSON object", ErrInvalidArguments, receiver, method)
	}
	msg = append(msg, '}')
	*buf = msg[:0]
	f, err := h.send(receiver, msg, method, opts, 1, false, true)
	if err != nil {
		return err
	}
	ans, err := f.Wait(ctx)
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
		return &ResultError{Receiver: receiver, Method: method, Result: ans.Result, Err: err}
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
	f, err := h.sendMessage(receiver, message, opts, 1, false, true)
	if err != nil {
		return Reply{}, err
	}
	return f.Wait(ctx)
}

// payloads holds the buffers Call writes a request's message in before the envelope
// copies it.
var payloads = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

func putPayload(b *[]byte) {
	if cap(*b) <= 64<<10 {
		payloads.Put(b)
	}
}

// Future is a request in flight.
type Future struct {
	h        *Handle
	id       string
	receiver string
	what     string // the method called, or the type of a built-in request
	started  time.Time
	ch       chan any // its slot in the Handle's callers
	pooled   bool     // the slot goes back to the pool when Wait returns
}

// Messages of the Handle to its actor.
type (
	// callRequest publishes body, a request with message_id id, and answers the sender
	// with *callAnswer or an error.
	callRequest struct {
		id       string
		receiver string
		method   string // the method called, or the type of a built-in request
		body     []byte
		headers  wire.Headers
		failFast bool
		stream   bool // every answer, until forgotten
		// direct is set by the actor when it publishes the request straight to the
		// receiver's queue: a queue that is gone then sends it the registry's way.
		direct bool
	}
	// callAnswer is the answer to a callRequest.
	callAnswer struct {
		id  string // the request's message_id
		env wire.Envelope
	}
	// forgetCall drops a call whose caller gave up.
	forgetCall struct{ id string }
	// stopRequest asks the component to leave and stop (Stop).
	stopRequest struct{}
)

// Send publishes a request and returns its future at once. The envelope is encoded here,
// on the caller's goroutine; the actor records the call and hands the body to the bridge.
func (h *Handle) Send(receiver string, message any, opts ...CallOption) (*Future, error) {
	f, err := h.sendMessage(receiver, message, opts, 1, false, false)
	if err != nil {
		return nil, err
	}
	return &f, nil
}

// sendMessage encodes message, anything that encodes as a JSON object, and sends it.
func (h *Handle) sendMessage(receiver string, message any, opts []CallOption, buffer int, stream, pooled bool) (Future, error) {
	payload, err := wire.Compact(message)
	if err != nil {
		return Future{}, fmt.Errorf("encoding request to %s: %w", receiver, err)
	}
	return h.send(receiver, payload, whatOf(payload), opts, buffer, stream, pooled)
}

// send posts a request whose message is payload (compact JSON, read only until send
// returns), asking what (a method, or the type of a built-in request), and returns its
// future; for Call, Request, Send and Stream. A pooled future (Call's and Request's, whose
// Wait runs once) takes its slot from a pool and puts it back when Wait returns.
func (h *Handle) send(receiver string, payload []byte, what string, opts []CallOption, buffer int, stream, pooled bool) (Future, error) {
	var headers wire.Headers
	failFast := false
	if len(opts) > 0 {
		var o callOpts
		for _, opt := range opts {
			opt(&o)
		}
		headers, failFast = o.headers, o.failFast
	}
	env := wire.Envelope{Sender: h.def.name, Reciever: receiver, Message: payload, MessageID: wire.NewID()}
	body, err := env.Marshal()
	if err != nil {
		return Future{}, fmt.Errorf("encoding request to %s: %w", receiver, err)
	}
	select {
	case <-h.done:
		return Future{}, ErrStopped
	default:
	}
	ch := h.callers.open(env.MessageID, buffer, pooled)
	h.root.RequestWithCustomSender(h.pid, &callRequest{id: env.MessageID, receiver: receiver, method: what, body: body, headers: headers, failFast: failFast, stream: stream}, h.callers.pid)
	return Future{h: h, id: env.MessageID, receiver: receiver, what: what, started: time.Now(), ch: ch, pooled: pooled}, nil
}

// streamBuffer is how many answers of a stream wait for their reader before later ones
// are dropped.
const streamBuffer = 256

// Stream sends message to receiver and delivers every answer to it on the returned
// channel until ctx ends (then the channel is closed): for a request that is answered
// again and again, as the registry answers a watch request with each call it sees. An
// answer that finds the channel full is dropped.
func (h *Handle) Stream(ctx context.Context, receiver string, message any, opts ...CallOption) (<-chan Reply, error) {
	f, err := h.sendMessage(receiver, message, opts, streamBuffer, true, false)
	if err != nil {
		return nil, err
	}
	id, ch := f.id, f.ch
	out := make(chan Reply, streamBuffer)
	go func() { // ends with ctx, or with the component
		defer close(out)
		defer h.callers.drop(id)
		defer h.root.Send(h.pid, &forgetCall{id: id})
		for {
			select {
			case m := <-ch:
				a, ok := m.(*callAnswer)
				if !ok {
					return // an error: the request could not be sent, or the component stopped
				}
				ans, err := wire.DecodeAnswer(a.env.Message)
				if err != nil {
					continue
				}
				select {
				case out <- Reply{Answer: ans, From: a.env.Sender}:
				default:
				}
			case <-ctx.Done():
				return
			case <-h.done:
				return
			}
		}
	}()
	return out, nil
}

// Wait blocks until the answer arrives or ctx ends (the call timeout applies when ctx has
// no deadline). A request given up is forgotten; its late answer is dropped.
func (f *Future) Wait(ctx context.Context) (Reply, error) {
	var timeout <-chan time.Time
	if _, ok := ctx.Deadline(); !ok { // a timer is cheaper than a context of its own
		t := getTimer(f.h.def.callTimeout)
		defer putTimer(t)
		timeout = t.C
	}
	if f.pooled {
		defer f.h.callers.release(f.id, f.ch)
	} else {
		defer f.h.callers.drop(f.id)
	}
	var (
		rep  Reply
		err  error
		done error // why the wait ended without an answer
	)
	select {
	case m := <-f.ch:
		rep, err = f.outcome(m)
	case <-ctx.Done():
		done = ctx.Err()
	case <-timeout:
		done = context.DeadlineExceeded
	}
	if done != nil {
		select {
		case m := <-f.ch: // it came after all
			rep, err = f.outcome(m)
		default:
			f.h.root.Send(f.h.pid, &forgetCall{id: f.id})
			if errors.Is(done, context.DeadlineExceeded) {
				err = fmt.Errorf("request to %s: %w (%w)", f.receiver, ErrTimeout, done)
			} else {
				err = fmt.Errorf("request to %s: %w", f.receiver, done)
			}
		}
	}
	f.logCall(ctx, rep, err)
	return rep, err
}

// timers holds stopped timers for Wait. Since Go 1.23 a stopped timer's channel holds
// nothing stale, so a timer from the pool fires only for its new wait.
var timers sync.Pool

func getTimer(d time.Duration) *time.Timer {
	if t, ok := timers.Get().(*time.Timer); ok {
		t.Reset(d)
		return t
	}
	return time.NewTimer(d)
}

func putTimer(t *time.Timer) {
	t.Stop()
	timers.Put(t)
}

// observe counts the call in the metrics.
func (f *Future) observe(what, outcome string) {
	f.h.metrics.Call(f.receiver, what, outcome, time.Since(f.started))
}

// logCall writes the one debug line of a call: caller, receiver, method, outcome,
// latency and message id.
func (f *Future) logCall(ctx context.Context, rep Reply, err error) {
	debug := f.h.log.Enabled(ctx, slog.LevelDebug)
	if !debug && f.h.metrics == nil {
		return
	}
	what := f.what
	outcome := "ok"
	switch {
	case errors.Is(err, ErrTimeout):
		outcome = "timeout"
	case err != nil:
		outcome = "failed"
	case rep.HasErrors:
		outcome = wire.Classify(rep.From, rep.Errors).String()
	}
	f.observe(what, outcome)
	if !debug {
		return
	}
	if err != nil {
		outcome = err.Error()
	}
	f.h.log.Debug("call", "caller", f.h.def.name, "receiver", f.receiver, "method", what, "outcome", outcome,
		"latency", time.Since(f.started), "message_id", f.id)
}

func (f *Future) outcome(m any) (Reply, error) {
	switch m := m.(type) {
	case *callAnswer:
		a, err := wire.DecodeAnswer(m.env.Message)
		if err != nil {
			return Reply{}, fmt.Errorf("%w from %s: %v", ErrBadAnswer, f.receiver, err)
		}
		return Reply{Answer: a, From: m.env.Sender}, nil
	case error:
		return Reply{}, fmt.Errorf("request to %s: %w", f.receiver, m)
	default:
		return Reply{}, fmt.Errorf("request to %s: unexpected answer %T", f.receiver, m)
	}
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

// Stop leaves the registry, lets the methods that run finish and their answers reach the
// broker, releases the component's queue and stops its actor, waiting for all of it
// within ctx. It is idempotent; later calls return the first result.
func (h *Handle) Stop(ctx context.Context) error {
	h.stopOnce.Do(func() { h.root.Send(h.pid, &stopRequest{}) })
	select {
	case <-h.done:
		return h.stopErr
	case <-ctx.Done():
		return fmt.Errorf("stopping %s: %w", h.def.name, ctx.Err())
	}
}

// whatOf is what a request's message asks: the method of an exec_method, or the type of
// a built-in request.
func whatOf(payload []byte) string {
	var what string
	_ = wire.Fields(payload, func(k string, v []byte) {
		if k == "method" || k == "type" && what == "" {
			what, _ = wire.StringValue(v)
		}
	})
	return what
}
