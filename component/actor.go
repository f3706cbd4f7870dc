package component

import (
	"context"
	"fmt"
	"github.com/at-technology/atqueue/supervision"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/wire"
)

// componentActor is the component's mailbox. It reads every delivery of the component's
// queue: answers complete pending requests at once; each request is served on its own
// goroutine (bounded by the consumer's prefetch), so a method may call other components,
// this one included, without blocking the mailbox. A method that panics is answered with
// a ComponentCrashedException and then fails the actor, whose supervisor restarts it.
type componentActor struct{ h *Handle }

// methodPanicked is sent by a serving goroutine whose method panicked.
type methodPanicked struct {
	method string
	reason any
}

func (a *componentActor) Receive(c actor.Context) {
	h := a.h
	switch m := c.Message().(type) {
	case *actor.Started:
		if h.def.onStart != nil {
			if err := h.def.onStart(h.baseCtx); err != nil {
				panic(fmt.Sprintf("component %s: start hook: %v", h.def.name, err))
			}
		}
	case *supervision.InjectedFailure:
		panic(m)
	case *bridge.Delivery:
		h.dispatch(m)
	case *methodPanicked:
		panic(fmt.Sprintf("component %s: method %s panicked: %v", h.def.name, m.method, m.reason))
	case *actor.Stopping:
		h.shutdown(c)
	}
}

func (h *Handle) dispatch(d *bridge.Delivery) {
	env, err := wire.Decode(d.Body, h.def.maxBody)
	if err != nil {
		if env.Sender == "" || env.MessageID == "" || env.AnswerTo != "" {
			h.log.Warn("dropped an unreadable message", "component", h.def.name, "err", err)
			_ = d.Ack()
			return
		}
		h.reply(&env, wire.ErrorsMessage(wire.Exception(
			fmt.Sprintf("Component %s could not read message %s from %s: %v", wire.PyString(h.def.name), wire.PyString(env.MessageID), wire.PyString(env.Sender), err),
			ProcessMessageException, h.sid, h.def.name, env.MessageID, nil)), nil, d)
		return
	}
	if env.AnswerTo != "" {
		if !h.resolve(env) {
			h.log.Debug("answer to no pending request", "component", h.def.name, "answer_to", env.AnswerTo, "from", env.Sender)
		}
		_ = d.Ack()
		return
	}
	switch answer, fresh, tries := h.seen.begin(env.Sender, env.MessageID); {
	case fresh && tries >= maxAttempts:
		h.log.Error("request refused: it was started before and never answered", "component", h.def.name, "message_id", env.MessageID, "starts", tries)
		h.reply(&env, wire.ErrorsMessage(wire.Exception(
			fmt.Sprintf("Component %s refuses message %s from %s: it was started %d times and never answered (the process died each time)",
				wire.PyString(h.def.name), wire.PyString(env.MessageID), wire.PyString(env.Sender), tries),
			ComponentCrashedException, h.sid, h.def.name, env.MessageID, env.Message)), nil, d)
		return
	case !fresh && answer != nil:
		h.log.Info("request delivered again; its answer is sent again", "component", h.def.name, "message_id", env.MessageID)
		h.publishAnswer(answer, nil, d)
		return
	case !fresh:
		h.log.Info("request delivered again while it runs; duplicate dropped", "component", h.def.name, "message_id", env.MessageID)
		_ = d.Ack()
		return
	}
	j := job{env: env, d: d}
	select {
	case h.jobs <- j:
	default:
		h.workers.Add(1)
		go h.worker(j)
	}
}

// request holds the top-level fields of a request's message, read in one pass.
type request struct {
	typ          string
	method, args []byte
	config       []byte
}

// job is one request for a worker.
type job struct {
	env wire.Envelope
	d   *bridge.Delivery
}

// worker serves first, then whatever the actor hands it until shutdown closes h.jobs.
// Workers are kept rather than started per request because a request's stack grows deep
// (JSON, schema validation) and growing a fresh goroutine's stack every time costs more
// than the work itself. Their number never exceeds the requests in flight, which the
// consumer's prefetch bounds.
func (h *Handle) worker(first job) {
	defer h.workers.Done()
	h.serve(first.env, first.d)
	for j := range h.jobs {
		h.serve(j.env, j.d)
	}
}

// serve handles one request.
func (h *Handle) serve(env wire.Envelope, d *bridge.Delivery) {
	var current string
	defer func() {
		if r := recover(); r != nil {
			h.log.Error("method panicked", "component", h.def.name, "method", current, "panic", r)
			h.reply(&env, wire.ErrorsMessage(wire.Exception(
				fmt.Sprintf("Component %s crashed while executing %s: %v", wire.PyString(h.def.name), wire.PyString(current), r),
				ComponentCrashedException, h.sid, h.def.name, env.MessageID, env.Message,
				wire.Field{Key: "method", Value: nullable(current)})), nil, d)
			h.root.Send(h.pid, &methodPanicked{method: current, reason: r})
		}
	}()
	token, hasToken := d.Headers.AuthToken()
	ctx := context.WithValue(h.baseCtx, handleKey{}, h)
	if hasToken {
		ctx = context.WithValue(ctx, tokenKey{}, token)
	}
	var req request
	_ = wire.Fields(env.Message, func(k string, v []byte) {
		switch k {
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
	switch typ := req.typ; typ {
	case wire.TypePing:
		h.reply(&env, wire.Object{{Key: "result", Value: "pong"}}, d.Headers, d)
	case wire.TypeCheckConfigured:
		h.reply(&env, h.checkConfigured(ctx, token), d.Headers, d)
	case wire.TypeConfigurate:
		h.reply(&env, h.configurate(ctx, &env, req.config, token), nil, d)
	case wire.TypeExecMethod:
		msg := h.exec(ctx, &env, &req, token, hasToken, &current)
		h.reply(&env, msg, nil, d)
	default:
		h.reply(&env, wire.ErrorsMessage(wire.Exception(
			fmt.Sprintf("Component %s received message %s from %s of unknown type %s; known types are ping, check_configured, configurate and exec_method",
				wire.PyString(h.def.name), wire.PyString(env.MessageID), wire.PyString(env.Sender), wire.PyString(typ)),
			ProcessMessageException, h.sid, h.def.name, env.MessageID, env.Message)), nil, d)
	}
}

// reply answers req with msg and acknowledges d once the transport has the answer.
func (h *Handle) reply(req *wire.Envelope, msg any, headers wire.Headers, d *bridge.Delivery) {
	payload, err := wire.Compact(msg)
	if err != nil {
		payload, _ = wire.Compact(wire.ErrorsMessage(fmt.Sprintf("the answer could not be encoded: %v", err)))
	}
	ans := wire.Envelope{Sender: h.def.name, Reciever: req.Sender, Message: payload, MessageID: wire.NewID(), AnswerTo: req.MessageID}
	body, err := ans.Marshal()
	if err != nil {
		h.log.Error("cannot encode an answer", "component", h.def.name, "err", err)
		_ = d.Ack()
		return
	}
	h.seen.done(req.Sender, req.MessageID, body)
	h.publishAnswer(body, headers, d)
}

// publishAnswer publishes an answer body and settles d once the transport has it.
func (h *Handle) publishAnswer(body []byte, headers wire.Headers, d *bridge.Delivery) {
	h.unsettled.Add(1)
	h.root.Send(h.brPID, &bridge.Publish{Queue: wire.SendQueue(h.sid), Body: body, Headers: headers, Done: func(err error) {
		defer h.unsettled.Done()
		if err != nil {
			h.log.Warn("answer not published; the request goes back to the queue", "component", h.def.name, "err", err)
			_ = d.Nack(true)
			return
		}
		_ = d.Ack()
	}})
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
