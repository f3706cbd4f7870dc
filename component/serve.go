package component

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/wire"
)

// job is one request for a worker.
type job struct {
	env wire.Envelope
	d   *bridge.Delivery
}

// served is a worker's report: the answer to send for a request (nil body: none could
// be encoded; the request is dropped).
type served struct {
	env     wire.Envelope
	d       *bridge.Delivery
	body    []byte
	headers wire.Headers
	// panicked is set when the method panicked (answered with a ComponentCrashedException);
	// restart when it asked for a restart (ErrRestart).
	panicked bool
	restart  error
	method   string
}

// restartRequested fails the actor on purpose: a method said the component's state is
// broken (ErrRestart).
type restartRequested struct {
	method string
	err    error
}

// delivery takes what the bridge delivers: on the shared registry queue, a registration
// answer; on the component's own queue, an answer to one of its calls or a request.
func (k *core) delivery(c actor.Context, d *bridge.Delivery) {
	if d.Queue == wire.RecieveQueue(wire.RegistrySession) {
		k.registryDelivery(c, d)
		return
	}
	env, err := wire.Decode(d.Body, k.def.maxBody)
	if err != nil {
		if env.Sender == "" || env.MessageID == "" || env.AnswerTo != "" {
			k.log.Warn("dropped an unreadable message", "component", k.def.name, "err", err)
			c.Send(k.bridge, &bridge.Settle{D: d})
			return
		}
		k.answer(c, &env, wire.ErrorsMessage(wire.Exception(
			fmt.Sprintf("Component %s could not read message %s from %s: %v", wire.PyString(k.def.name), wire.PyString(env.MessageID), wire.PyString(env.Sender), err),
			ProcessMessageException, k.h.sid, k.def.name, env.MessageID, nil)), nil, d)
		return
	}
	if env.AnswerTo != "" {
		k.answered(c, env, d.Headers)
		c.Send(k.bridge, &bridge.Settle{D: d})
		return
	}
	if k.phase == stopped {
		c.Send(k.bridge, &bridge.Settle{D: d, Nack: true, Requeue: true})
		return
	}
	switch answer, fresh, tries := k.seen.begin(env.Sender, env.MessageID); {
	case fresh && tries >= maxAttempts:
		k.log.Error("request refused: it was started before and never answered", "component", k.def.name, "message_id", env.MessageID, "starts", tries)
		k.answer(c, &env, wire.ErrorsMessage(wire.Exception(
			fmt.Sprintf("Component %s refuses message %s from %s: it was started %d times and never answered (the process died each time)",
				wire.PyString(k.def.name), wire.PyString(env.MessageID), wire.PyString(env.Sender), tries),
			ComponentCrashedException, k.h.sid, k.def.name, env.MessageID, env.Message)), nil, d)
	case !fresh && answer != nil:
		k.log.Info("request delivered again; its answer is sent again", "component", k.def.name, "message_id", env.MessageID)
		k.sendAnswer(c, d, answer, nil)
	case !fresh:
		k.log.Info("request delivered again while it runs; duplicate dropped", "component", k.def.name, "message_id", env.MessageID)
		c.Send(k.bridge, &bridge.Settle{D: d})
	case k.journal != nil:
		// Run once its start is on disk: a request that kills the process must be seen
		// as started when it comes again.
		k.inflight++
		k.journal.begin(c.Self(), env.Sender, env.MessageID, &job{env: env, d: d})
		k.journal.compact(k.seen)
	default:
		k.inflight++
		k.dispatch(job{env: env, d: d})
	}
}

// dispatch hands a request to an idle worker, or to a new one. Workers are kept rather
// than started per request because a request's stack grows deep (JSON, schema validation)
// and growing a fresh goroutine's stack every time costs more than the work itself. Their
// number never exceeds the requests in flight, which the consumer's prefetch bounds.
func (k *core) dispatch(j job) {
	select {
	case k.jobs <- j:
	default:
		k.workers.Add(1)
		go k.worker(j)
	}
}

// worker serves first, then whatever the actor hands it until the actor stops.
func (k *core) worker(first job) {
	defer k.workers.Done()
	k.serve(first)
	for j := range k.jobs {
		k.serve(j)
	}
}

// serve runs one request and reports the answer to the actor.
func (k *core) serve(j job) {
	h, env, d := k.h, j.env, j.d
	out := &served{env: env, d: d}
	defer func() {
		if r := recover(); r != nil {
			k.log.Error("method panicked", "component", k.def.name, "method", out.method, "message_id", env.MessageID,
				"sender", env.Sender, "panic", r, "stack", string(debug.Stack()))
			out.panicked, out.headers = true, nil
			out.body = k.encode(&env, crashed(k, &env, out.method, fmt.Sprint(r)))
		}
		h.root.Send(h.pid, out)
	}()
	token, hasToken := d.Headers.AuthToken()
	ctx := k.serveCtx
	if hasToken {
		ctx = context.WithValue(ctx, tokenKey{}, token)
	}
	var req request
	_ = wire.Fields(env.Message, func(key string, v []byte) {
		switch key {
		case "type":
			req.typ, _ = wire.StringValue(v)
		case "method":
			req.method = v
		case "args":
			req.args = v
		case "config":
			req.config = v
		}
	})
	var msg any
	switch typ := req.typ; typ {
	case wire.TypePing:
		msg, out.headers = wire.Object{{Key: "result", Value: "pong"}}, d.Headers
	case wire.TypeCheckConfigured:
		msg, out.headers = h.checkConfigured(ctx, token), d.Headers
	case wire.TypeConfigurate:
		msg = h.configurate(ctx, &env, req.config, token)
	case wire.TypeExecMethod:
		msg = h.exec(ctx, &env, &req, token, hasToken, &out.method)
		if r, ok := msg.(restartMarker); ok {
			out.restart = r.err
			msg = crashed(k, &env, out.method, r.err.Error())
		}
	default:
		msg = wire.ErrorsMessage(wire.Exception(
			fmt.Sprintf("Component %s received message %s from %s of unknown type %s; known types are ping, check_configured, configurate and exec_method",
				wire.PyString(k.def.name), wire.PyString(env.MessageID), wire.PyString(env.Sender), wire.PyString(typ)),
			ProcessMessageException, k.h.sid, k.def.name, env.MessageID, env.Message))
	}
	out.body = k.encode(&env, msg)
}

// crashed is the answer to a request whose method panicked or asked for a restart.
func crashed(k *core, env *wire.Envelope, method, reason string) any {
	return wire.ErrorsMessage(wire.Exception(
		fmt.Sprintf("Component %s crashed while executing %s: %s", wire.PyString(k.def.name), wire.PyString(method), reason),
		ComponentCrashedException, k.h.sid, k.def.name, env.MessageID, env.Message,
		wire.Field{Key: "method", Value: nullable(method)}))
}

// encode is the answer envelope to req; nil when it cannot be written at all.
func (k *core) encode(req *wire.Envelope, msg any) []byte {
	ans := wire.Envelope{Sender: k.def.name, Reciever: req.Sender, MessageID: wire.NewID(), AnswerTo: req.MessageID}
	body, err := ans.MarshalWith(msg)
	if err != nil {
		body, err = ans.MarshalWith(wire.ErrorsMessage(fmt.Sprintf("the answer could not be encoded: %v", err)))
	}
	if err != nil {
		k.log.Error("cannot encode an answer", "component", k.def.name, "err", err)
		return nil
	}
	return body
}

// answer answers req from the actor itself (what needs no worker).
func (k *core) answer(c actor.Context, req *wire.Envelope, msg any, headers wire.Headers, d *bridge.Delivery) {
	k.publishAnswer(c, req, k.encode(req, msg), headers, d)
}

// served records a worker's answer and sends it; with a journal, once the answer is on
// disk, so that a request delivered again after a crash is answered from it.
func (k *core) served(c actor.Context, m *served) {
	k.inflight--
	if m.panicked {
		k.h.metrics.Panic(k.def.name, m.method)
		k.log.Warn("a request made its method panic; it was answered and the component goes on", "component", k.def.name, "method", m.method)
	}
	if k.journal != nil && m.body != nil {
		k.seen.done(m.env.Sender, m.env.MessageID, m.body)
		k.journal.answer(c.Self(), m.env.Sender, m.env.MessageID, m.body, m)
		k.journal.compact(k.seen)
	} else {
		k.publishAnswer(c, &m.env, m.body, m.headers, m.d)
	}
	if m.restart != nil {
		c.Send(c.Self(), &restartRequested{method: m.method, err: m.restart})
	}
	k.finishLeaving(c)
}

// publishAnswer remembers the answer and publishes it; the bridge acknowledges the
// request once the broker has the answer.
func (k *core) publishAnswer(c actor.Context, req *wire.Envelope, body []byte, headers wire.Headers, d *bridge.Delivery) {
	if body == nil {
		c.Send(k.bridge, &bridge.Settle{D: d})
		return
	}
	k.seen.done(req.Sender, req.MessageID, body)
	k.sendAnswer(c, d, body, headers)
}

// sendAnswer publishes the answer to the request d, which the bridge settles by
// forwarding: the answer goes out on the channel d came through, and d is acknowledged
// right after it.
func (k *core) sendAnswer(c actor.Context, d *bridge.Delivery, body []byte, headers wire.Headers) {
	c.Send(k.bridge, &bridge.Publish{Queue: k.answerQueue(d), Body: body, Headers: headers, Settle: d, Forward: true})
}

// journaled continues what waited for the journal.
func (k *core) journaled(c actor.Context, m *journaled) {
	if m.err != nil {
		k.log.Error("dedupe journal", "component", k.def.name, "err", m.err)
	}
	switch next := m.next.(type) {
	case *job:
		if k.phase == stopped {
			k.inflight--
			c.Send(k.bridge, &bridge.Settle{D: next.d, Nack: true, Requeue: true})
			return
		}
		k.dispatch(*next)
	case *served:
		k.sendAnswer(c, next.d, next.body, next.headers)
	}
}

// request holds the top-level fields of a request's message, read in one pass.
type request struct {
	typ          string
	method, args []byte
	config       []byte
}

type handleKey struct{}
type tokenKey struct{}

// FromContext returns the running component whose method ctx was passed to, so that a
// method can call other components: component.FromContext(ctx).Call(ctx, ...).
func FromContext(ctx context.Context) *Handle {
	h, _ := ctx.Value(handleKey{}).(*Handle)
	return h
}

// AuthToken returns the auth_token the caller sent (header or argument), "" if none.
func AuthToken(ctx context.Context) string {
	t, _ := ctx.Value(tokenKey{}).(string)
	return t
}
