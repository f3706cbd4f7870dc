package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/wire"
	"github.com/google/uuid"
	amqp "github.com/rabbitmq/amqp091-go"
)

// Result holds the figures of one Run.
type Result struct {
	Serial     Stats
	Concurrent Stats
}

// Warmup is the number of calls made, and not counted, before each measurement.
const Warmup = 20

// CallTimeout bounds one call.
const CallTimeout = 10 * time.Second

// Run sets up the relay on the broker at url and measures serialN calls one at a time,
// then concurrentN calls with inflight of them at once, after Warmup calls. A call that
// fails is counted in Stats.Errors; the error is for setup failures.
func Run(ctx context.Context, url string, serialN, concurrentN, inflight int, opts ...RelayOption) (res Result, err error) {
	b, err := Start(ctx, url, opts...)
	if err != nil {
		return Result{}, err
	}
	defer func() { err = errors.Join(err, b.Close()) }()
	if s := Measure(ctx, "warmup", Warmup, 1, b.Call); s.Errors > 0 {
		return Result{}, fmt.Errorf("relay warm-up: %w", s.FirstErr)
	}
	res.Serial = Measure(ctx, "serial", serialN, 1, b.Call)
	res.Concurrent = Measure(ctx, "concurrent"+strconv.Itoa(inflight), concurrentN, inflight, b.Call)
	return res, ctx.Err()
}

// Baseline is a running relay with its caller and target, for measurements that
// interleave it with something else. Close it.
type Baseline struct{ r *relay }

// RelayOption changes the relay.
type RelayOption func(*relay)

// WithoutConfirms makes the relay publish without publisher confirms: the relay and
// the target acknowledge a delivery as soon as what it caused is handed to the broker.
// It is the floor of any design that routes each call through four queue hops.
func WithoutConfirms() RelayOption { return func(r *relay) { r.noConfirms = true } }

// Start sets up the three parties and their queues on the broker at url.
func Start(ctx context.Context, url string, opts ...RelayOption) (*Baseline, error) {
	r, err := start(ctx, url, opts...)
	if err != nil {
		return nil, err
	}
	return &Baseline{r: r}, nil
}

// Call makes one int_sum(5, 18) round trip through the four hops, within CallTimeout.
// It is safe for concurrent use.
func (b *Baseline) Call(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	return b.r.call(ctx)
}

// Close deletes the queues, closes the connections and waits for every goroutine.
func (b *Baseline) Close() error { return b.r.close() }

// party is one process of the baseline: a connection with a consuming channel and a
// publishing channel in confirm mode.
type party struct {
	conn *amqp.Connection
	sub  *amqp.Channel
	pub  *publisher
}

// publisher serialises publishes on one channel and runs each publish's onConfirm when
// the broker confirms it.
type publisher struct {
	mu        sync.Mutex // held while publishing: one publisher at a time on ch
	ch        *amqp.Channel
	unconfirm bool // the channel is not in confirm mode: onConfirm runs once published

	pmu     sync.Mutex
	pending map[uint64]func(ack bool)
}

func (p *publisher) publish(ctx context.Context, queue string, body []byte, onConfirm func(ack bool)) error {
	if p.unconfirm {
		p.mu.Lock()
		err := p.ch.PublishWithContext(ctx, "", queue, false, false, amqp.Publishing{Body: body, DeliveryMode: amqp.Transient})
		p.mu.Unlock()
		if err == nil && onConfirm != nil {
			onConfirm(true)
		}
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	seq := p.ch.GetNextPublishSeqNo()
	if onConfirm != nil {
		p.pmu.Lock()
		p.pending[seq] = onConfirm
		p.pmu.Unlock()
	}
	err := p.ch.PublishWithContext(ctx, "", queue, false, false, amqp.Publishing{Body: body, DeliveryMode: amqp.Transient})
	if err != nil && onConfirm != nil {
		p.pmu.Lock()
		delete(p.pending, seq)
		p.pmu.Unlock()
	}
	return err
}

// confirmed drains the channel's confirmations until it closes.
func (p *publisher) confirmed(confirms <-chan amqp.Confirmation) {
	for c := range confirms {
		p.pmu.Lock()
		f := p.pending[c.DeliveryTag]
		delete(p.pending, c.DeliveryTag)
		p.pmu.Unlock()
		if f != nil {
			f(c.Ack)
		}
	}
}

type relay struct {
	noConfirms           bool
	caller, hub, target  *party
	callerSID, targetSID string
	routes               map[string]string // name → session id

	wg sync.WaitGroup // the consumer and confirm loops

	mu      sync.Mutex
	waiting map[string]chan []byte // message_id → the caller's answer
}

const (
	callerName = "BenchCaller"
	targetName = "BenchTarget"
)

func start(ctx context.Context, url string, opts ...RelayOption) (*relay, error) {
	r := &relay{
		callerSID: uuid.NewString(), targetSID: uuid.NewString(),
		waiting: map[string]chan []byte{},
	}
	for _, o := range opts {
		o(r)
	}
	r.routes = map[string]string{callerName: r.callerSID, targetName: r.targetSID}
	var err error
	for _, p := range []**party{&r.caller, &r.hub, &r.target} {
		if *p, err = r.dial(ctx, url); err != nil {
			_ = r.close()
			return nil, err
		}
	}
	for _, sid := range []string{r.callerSID, r.targetSID} {
		for _, q := range []string{wire.SendQueue(sid), wire.RecieveQueue(sid)} {
			if _, err := r.hub.sub.QueueDeclare(q, true, false, false, false, nil); err != nil {
				_ = r.close()
				return nil, fmt.Errorf("declaring %s: %w", q, err)
			}
		}
	}
	steps := []struct {
		p     *party
		queue string
		serve func(amqp.Delivery)
	}{
		{r.hub, wire.SendQueue(r.callerSID), r.forward},
		{r.hub, wire.SendQueue(r.targetSID), r.forward},
		{r.target, wire.RecieveQueue(r.targetSID), r.answer},
		{r.caller, wire.RecieveQueue(r.callerSID), r.resolve},
	}
	for _, s := range steps {
		ds, err := s.p.sub.Consume(s.queue, "", false, false, false, false, nil)
		if err != nil {
			_ = r.close()
			return nil, fmt.Errorf("consuming %s: %w", s.queue, err)
		}
		r.wg.Go(func() {
			for d := range ds {
				s.serve(d)
			}
		})
	}
	return r, nil
}

func (r *relay) dial(ctx context.Context, url string) (*party, error) {
	conn, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	if err != nil {
		return nil, fmt.Errorf("relay: connecting: %w", err)
	}
	if ctx.Err() != nil {
		_ = conn.Close()
		return nil, ctx.Err()
	}
	p := &party{conn: conn}
	fail := func(err error) (*party, error) {
		_ = conn.Close()
		return nil, fmt.Errorf("relay: opening channels: %w", err)
	}
	if p.sub, err = conn.Channel(); err != nil {
		return fail(err)
	}
	if err := p.sub.Qos(bridge.DefaultPrefetch, 0, false); err != nil {
		return fail(err)
	}
	pch, err := conn.Channel()
	if err != nil {
		return fail(err)
	}
	if r.noConfirms {
		p.pub = &publisher{ch: pch, unconfirm: true}
		return p, nil
	}
	if err := pch.Confirm(false); err != nil {
		return fail(err)
	}
	p.pub = &publisher{ch: pch, pending: map[uint64]func(bool){}}
	confirms := pch.NotifyPublish(make(chan amqp.Confirmation, bridge.DefaultPrefetch))
	r.wg.Go(func() { p.pub.confirmed(confirms) })
	return p, nil
}

type envelope struct {
	Sender    string          `json:"sender"`
	Reciever  string          `json:"reciever"`
	Message   json.RawMessage `json:"message"`
	MessageID string          `json:"message_id"`
	AnswerTo  *string         `json:"answer_to"`
}

// settle acknowledges d once what it caused is confirmed, and requeues it otherwise.
func settle(d amqp.Delivery) func(bool) {
	return func(ack bool) {
		if ack {
			_ = d.Ack(false)
		} else {
			_ = d.Nack(false, true)
		}
	}
}

// forward is the relay's hop: route by "reciever".
func (r *relay) forward(d amqp.Delivery) {
	var env struct {
		Reciever string `json:"reciever"`
	}
	sid, ok := "", false
	if json.Unmarshal(d.Body, &env) == nil {
		sid, ok = r.routes[env.Reciever]
	}
	if !ok {
		_ = d.Ack(false) // not for us: dropped
		return
	}
	if err := r.hub.pub.publish(context.Background(), wire.RecieveQueue(sid), d.Body, settle(d)); err != nil {
		_ = d.Nack(false, true)
	}
}

// answer is the target: int_sum without validation.
func (r *relay) answer(d amqp.Delivery) {
	var env envelope
	var msg struct {
		Args struct{ A, B int } `json:"args"`
	}
	if json.Unmarshal(d.Body, &env) != nil || json.Unmarshal(env.Message, &msg) != nil {
		_ = d.Ack(false)
		return
	}
	body := fmt.Appendf(nil, `{"sender": %q, "reciever": %q, "message": {"type": "method_result", "result": %d}, "message_id": %q, "answer_to": %q}`,
		targetName, env.Sender, msg.Args.A+msg.Args.B, uuid.NewString(), env.MessageID)
	if err := r.target.pub.publish(context.Background(), wire.SendQueue(r.targetSID), body, settle(d)); err != nil {
		_ = d.Nack(false, true)
	}
}

// resolve is the caller's consumer: hand the answer to whoever waits for it.
func (r *relay) resolve(d amqp.Delivery) {
	_ = d.Ack(false)
	var env envelope
	if json.Unmarshal(d.Body, &env) != nil || env.AnswerTo == nil {
		return
	}
	r.mu.Lock()
	ch := r.waiting[*env.AnswerTo]
	delete(r.waiting, *env.AnswerTo)
	r.mu.Unlock()
	if ch != nil {
		ch <- env.Message
	}
}

// call is one int_sum(5, 18) round trip through the four hops.
func (r *relay) call(ctx context.Context) error {
	id := uuid.NewString()
	ch := make(chan []byte, 1)
	r.mu.Lock()
	r.waiting[id] = ch
	r.mu.Unlock()
	forget := func() {
		r.mu.Lock()
		delete(r.waiting, id)
		r.mu.Unlock()
	}
	body := fmt.Appendf(nil, `{"sender": %q, "reciever": %q, "message": {"type": "exec_method", "method": "int_sum", "args": {"a": 5, "b": 18}}, "message_id": %q, "answer_to": null}`,
		callerName, targetName, id)
	if err := r.caller.pub.publish(ctx, wire.SendQueue(r.callerSID), body, nil); err != nil {
		forget()
		return err
	}
	select {
	case msg := <-ch:
		var ans struct {
			Result int `json:"result"`
		}
		if err := json.Unmarshal(msg, &ans); err != nil || ans.Result != 23 {
			return fmt.Errorf("relay: unexpected answer %s", msg)
		}
		return nil
	case <-ctx.Done():
		forget()
		return ctx.Err()
	}
}

// close deletes the queues, closes every connection and waits for the loops.
func (r *relay) close() error {
	var errs []error
	if r.hub != nil {
		if ch, err := r.hub.conn.Channel(); err == nil {
			for _, sid := range []string{r.callerSID, r.targetSID} {
				for _, q := range []string{wire.SendQueue(sid), wire.RecieveQueue(sid)} {
					if _, err := ch.QueueDelete(q, false, false, false); err != nil {
						errs = append(errs, fmt.Errorf("deleting %s: %w", q, err))
					}
				}
			}
			_ = ch.Close()
		}
	}
	for _, p := range []*party{r.caller, r.hub, r.target} {
		if p != nil {
			if err := p.conn.Close(); err != nil && !errors.Is(err, amqp.ErrClosed) {
				errs = append(errs, err)
			}
		}
	}
	r.wg.Wait()
	return errors.Join(errs...)
}

// DeleteQueues deletes queues on the broker at url, for benchmarks that leave durable
// queues behind. A queue that does not exist is not an error.
func DeleteQueues(url string, queues ...string) error {
	conn, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	defer ch.Close()
	var errs []error
	for _, q := range queues {
		if _, err := ch.QueueDelete(q, false, false, false); err != nil {
			errs = append(errs, fmt.Errorf("deleting %s: %w", q, err))
		}
	}
	return errors.Join(errs...)
}
