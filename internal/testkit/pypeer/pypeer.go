// Package pypeer plays a Python at_queue component at the AMQP level, for the tests that
// check what a deployed Python peer sees of the Go side: it declares the queues with the
// flags of the at_queue version it plays, registers the way every at_queue version does
// (spec §5.1: consume the shared recieve-<registry> queue with unlimited prefetch, take
// only its own answer and leave every other one unacknowledged until the registration
// session closes), then consumes its own queue, answers exec_method and makes calls.
//
// Nothing here is a mock of the Go side: it talks to the real broker. A Peer owns one
// connection (and the goroutine of its consumer); Close, or Kill, ends both.
package pypeer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/at-technology/atqueue/wire"
	amqp "github.com/rabbitmq/amqp091-go"
)

// Version is the at_queue behaviour a peer plays.
type Version struct {
	Name    string
	Durable bool // how it declares send-/recieve- queues
}

var (
	// Before6ddd4b0 is every at_queue version before commit 6ddd4b0 (2026-07-20): queues
	// declared with default flags, that is non-durable.
	Before6ddd4b0 = Version{Name: "at_queue before 6ddd4b0", Durable: false}
	// Since6ddd4b0 is at_queue from commit 6ddd4b0 on: durable queues.
	Since6ddd4b0 = Version{Name: "at_queue 6ddd4b0 and later", Durable: true}
)

// ErrNoAnswer is returned by Register when the registry's answer did not come in time.
var ErrNoAnswer = errors.New("no registration answer")

// Method serves one exec_method call: the result, or the items of an "errors" answer.
type Method func(args json.RawMessage) (result any, errs []any)

// Peer is a registered Python-like component.
type Peer struct {
	Name, SID string
	v         Version
	conn      *amqp.Connection
	pub       *amqp.Channel // publishes on send-<sid>; guarded by pubMu
	pubMu     sync.Mutex
	methods   map[string]Method

	mu      sync.Mutex
	answers map[string]chan wire.Envelope // request id → waiting call
	served  int
	done    chan struct{} // closed when the consumer goroutine and the requests it started end
}

// RegisterBody is a register request body as at_queue writes it for a component with one
// method int_sum(a: int, b: int) -> int, like the golden register_request.json.
func RegisterBody(name, messageID string) []byte {
	in := func(n string) string {
		return fmt.Sprintf(`%s: {"name": %s, "required": true, "schema": {"title": %s, "type": "integer"}, "strict_validation": false, "description": null}`,
			wire.PyString(n), wire.PyString(n), wire.PyString(string(n[0]-32)))
	}
	msg := `{"type": "register", "component": {"name": ` + wire.PyString(name) + `, "description": null, "methods": {"int_sum": {"name": "int_sum", "description": null, "inputs": {` +
		in("a") + `, ` + in("b") + `}, "output": {"schema": {"title": "Result", "type": "integer"}, "strict_validation": false, "description": null}}}}}`
	env := wire.Envelope{Sender: name, Reciever: wire.RegistryName, Message: json.RawMessage(msg), MessageID: messageID}
	b, err := env.Marshal()
	if err != nil {
		panic(err) // the template is valid JSON
	}
	return b
}

// Register dials url and registers the component whose register request is body (its
// sender is the name) as at_queue of version v does. It returns once the peer consumes
// its own queue, having released what it held on the shared queue; or an error when a
// declare is refused (ch. RabbitMQ's PRECONDITION_FAILED for other flags), or when ctx
// ends before its answer came (ErrNoAnswer).
func Register(ctx context.Context, url string, body []byte, v Version, methods map[string]Method) (*Peer, error) {
	env, err := wire.Decode(body, 0)
	if err != nil {
		return nil, fmt.Errorf("pypeer: register body: %w", err)
	}
	conn, err := amqp.Dial(url)
	if err != nil {
		return nil, fmt.Errorf("pypeer: %w", err)
	}
	p := &Peer{Name: env.Sender, v: v, conn: conn, methods: methods, answers: map[string]chan wire.Envelope{}, done: make(chan struct{})}
	reg, err := p.conn.Channel()
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	p.SID, err = p.register(ctx, reg, body, env)
	if err == nil {
		err = p.start()
	}
	// Only now, after start(), does at_queue close its registration session.
	_ = reg.Close()
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return p, nil
}

// declare declares the queue pair of sid as version v does; a refusal closes ch.
func (p *Peer) declare(ch *amqp.Channel, sid string) error {
	for _, q := range []string{wire.SendQueue(sid), wire.RecieveQueue(sid)} {
		if _, err := ch.QueueDeclare(q, p.v.Durable, false, false, false, nil); err != nil {
			return fmt.Errorf("pypeer %s (%s): declaring %s: %w", p.Name, p.v.Name, q, err)
		}
	}
	return nil
}

// register is spec §5.1 on a registration channel of its own; closing ch afterwards
// gives back (requeues) whatever it held.
func (p *Peer) register(ctx context.Context, ch *amqp.Channel, body []byte, req wire.Envelope) (string, error) {
	if err := p.declare(ch, wire.RegistrySession); err != nil {
		return "", err
	}
	deliveries, err := ch.Consume(wire.RecieveQueue(wire.RegistrySession), "", false, false, false, false, nil)
	if err != nil {
		return "", err
	}
	if err := ch.PublishWithContext(ctx, "", wire.SendQueue(wire.RegistrySession), true, false, amqp.Publishing{Body: body, DeliveryMode: amqp.Transient}); err != nil {
		return "", err
	}
	for {
		select {
		case d, ok := <-deliveries:
			if !ok {
				return "", fmt.Errorf("pypeer %s: the registration channel closed", p.Name)
			}
			env, err := wire.Decode(d.Body, 0)
			if err != nil || env.Reciever != p.Name || env.AnswerTo != req.MessageID {
				continue // left unacknowledged, as at_queue does
			}
			_ = d.Ack(false)
			var a struct {
				SessionID string          `json:"session_id"`
				Errors    json.RawMessage `json:"errors"`
			}
			if err := json.Unmarshal(env.Message, &a); err != nil || a.SessionID == "" {
				return "", fmt.Errorf("pypeer %s: registration refused: %s", p.Name, env.Message)
			}
			// Python declares the session's queues before it closes the registration
			// session.
			if err := p.declare(ch, a.SessionID); err != nil {
				return "", err
			}
			return a.SessionID, nil
		case <-ctx.Done():
			return "", fmt.Errorf("pypeer %s: %w: %w", p.Name, ErrNoAnswer, ctx.Err())
		}
	}
}

// start consumes recieve-<sid> (Python's start()).
func (p *Peer) start() error {
	var err error
	if p.pub, err = p.conn.Channel(); err != nil {
		return err
	}
	if err := p.pub.Confirm(false); err != nil {
		return err
	}
	ch, err := p.conn.Channel()
	if err != nil {
		return err
	}
	deliveries, err := ch.Consume(wire.RecieveQueue(p.SID), "", true, false, false, false, nil)
	if err != nil {
		return err
	}
	go p.consume(deliveries)
	return nil
}

func (p *Peer) consume(deliveries <-chan amqp.Delivery) {
	var serving sync.WaitGroup
	defer close(p.done)
	defer serving.Wait()
	for d := range deliveries {
		env, err := wire.Decode(d.Body, 0)
		if err != nil {
			continue
		}
		if env.AnswerTo != "" {
			p.mu.Lock()
			w := p.answers[env.AnswerTo]
			p.mu.Unlock()
			if w != nil {
				select {
				case w <- env: // the first answer wins; Await forgets the request
				default:
				}
			}
			continue
		}
		// Each request runs on its own, as aio-pika runs each delivery's handler as a task
		// of its own: answers are not held behind each other's publisher confirms.
		serving.Add(1)
		go func() {
			defer serving.Done()
			p.serve(env)
		}()
	}
}

// serve answers an exec_method request as at_queue does.
func (p *Peer) serve(env wire.Envelope) {
	var req struct {
		Type   string          `json:"type"`
		Method string          `json:"method"`
		Args   json.RawMessage `json:"args"`
	}
	if json.Unmarshal(env.Message, &req) != nil || req.Type != wire.TypeExecMethod {
		return
	}
	var msg wire.Object
	if m := p.methods[req.Method]; m == nil {
		msg = wire.ErrorsMessage(fmt.Sprintf("unknown method %s", req.Method))
	} else if res, errs := m(req.Args); errs != nil {
		msg = wire.ErrorsMessage(errs...)
	} else {
		msg = wire.Object{{Key: "type", Value: wire.TypeMethodResult}, {Key: "result", Value: res}}
	}
	p.mu.Lock()
	p.served++
	p.mu.Unlock()
	_ = p.send(context.Background(), env.Sender, msg, env.MessageID, "")
}

// send publishes an envelope on send-<sid> and waits for the broker's confirm.
func (p *Peer) send(ctx context.Context, to string, msg any, answerTo, id string) error {
	payload, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if id == "" {
		id = wire.NewID()
	}
	body, err := (&wire.Envelope{Sender: p.Name, Reciever: to, Message: payload, MessageID: id, AnswerTo: answerTo}).Marshal()
	if err != nil {
		return err
	}
	p.pubMu.Lock()
	dc, err := p.pub.PublishWithDeferredConfirmWithContext(ctx, "", wire.SendQueue(p.SID), true, false, amqp.Publishing{Body: body, DeliveryMode: amqp.Transient})
	p.pubMu.Unlock()
	if err != nil {
		return err
	}
	if ok, err := dc.WaitContext(ctx); err != nil || !ok {
		return fmt.Errorf("pypeer %s: publish not confirmed: %v", p.Name, err)
	}
	return nil
}

// Send publishes a request to receiver and returns its message id, without waiting for
// the answer (Await waits for it).
func (p *Peer) Send(ctx context.Context, receiver string, message any) (string, error) {
	id := wire.NewID()
	p.mu.Lock()
	p.answers[id] = make(chan wire.Envelope, 1)
	p.mu.Unlock()
	if err := p.send(ctx, receiver, message, "", id); err != nil {
		return "", err
	}
	return id, nil
}

// Await waits for the answer to the request id that Send returned.
func (p *Peer) Await(ctx context.Context, id string) (wire.Answer, error) {
	p.mu.Lock()
	w := p.answers[id]
	p.mu.Unlock()
	if w == nil {
		return wire.Answer{}, fmt.Errorf("pypeer %s: no request %s waits", p.Name, id)
	}
	select {
	case env := <-w:
		p.mu.Lock()
		delete(p.answers, id)
		p.mu.Unlock()
		return wire.DecodeAnswer(env.Message)
	case <-ctx.Done():
		return wire.Answer{}, fmt.Errorf("pypeer %s: no answer to %s: %w", p.Name, id, ctx.Err())
	}
}

// Call sends exec_method to receiver and waits for the answer.
func (p *Peer) Call(ctx context.Context, receiver, method string, args any) (wire.Answer, error) {
	id, err := p.Send(ctx, receiver, wire.Object{{Key: "type", Value: wire.TypeExecMethod}, {Key: "method", Value: method}, {Key: "args", Value: args}})
	if err != nil {
		return wire.Answer{}, err
	}
	return p.Await(ctx, id)
}

// Served counts the requests it answered.
func (p *Peer) Served() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.served
}

// Close ends the peer: its connection closes, so its consumer is gone. It is what a
// killed process looks like to the broker, and idempotent.
func (p *Peer) Close() error {
	err := p.conn.Close()
	<-p.done
	if errors.Is(err, amqp.ErrClosed) {
		return nil
	}
	return err
}

// IntSum is int_sum(a, b) as the seed's Python IntSummator computes it (exact integers).
func IntSum(args json.RawMessage) (any, []any) {
	dec := json.NewDecoder(bytes.NewReader(args))
	dec.UseNumber()
	var in struct{ A, B json.Number }
	if err := dec.Decode(&in); err != nil {
		return nil, []any{err.Error()}
	}
	a, errA := in.A.Int64()
	b, errB := in.B.Int64()
	if errA != nil || errB != nil {
		return nil, []any{"a and b must be integers"}
	}
	return a + b, nil
}
