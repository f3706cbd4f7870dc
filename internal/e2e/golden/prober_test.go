package golden_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/wire"
)

// newTransport makes the broker a prober's actors.System connects to, and a connection of
// the test's own to it, on which the raw parties play (closed when the test ends).
type newTransport func(t *testing.T) scene

type scene struct {
	raw    bridge.Transport
	broker bridge.Broker
}

func embeddedTransport(*testing.T) scene {
	e := bridge.NewEmbedded()
	return scene{raw: e, broker: e}
}

const (
	// answerTimeout bounds the wait for one answer. Python answers in milliseconds; so
	// must the Go side, including where Python sends nothing at all.
	answerTimeout = 5 * time.Second
	// setupTimeout bounds starting the system and every registration.
	setupTimeout = 10 * time.Second
	// maxRejects bounds how often a tap gives a message it does not want back to a shared
	// queue before it keeps it anyway (so that a message nobody wants cannot circulate
	// forever between consumers that all requeue it).
	maxRejects = 1000
)

// message is one delivery read raw off a queue.
type message struct {
	queue   string
	body    []byte
	headers wire.Headers
	env     wire.Envelope
	err     error // wire.Decode's verdict
}

func (m *message) String() string {
	return fmt.Sprintf("%s headers=%s body=%s", m.queue, showHeaders(m.headers), m.body)
}

// tap consumes one queue with the transport directly, as a Python peer's consumer would,
// and keeps what it reads until a test takes it.
type tap struct {
	queue  string
	hold   bool                // keep deliveries unacknowledged until ackAll
	accept func(*message) bool // nil: every delivery; else the others are requeued
	cancel func() error        // idempotent

	mu     sync.Mutex
	msgs   []*message         // read and not taken yet
	held   []*bridge.Delivery // unacknowledged (hold mode)
	strays []*message         // unwanted, kept after maxRejects requeues
	reject map[string]int     // message_id → requeues
	signal chan struct{}      // closed and replaced whenever msgs grows
}

// newTap consumes queue until the end of t (which must be the test that owns the scene,
// not a subtest).
func newTap(t *testing.T, tr bridge.Transport, queue string, hold bool, accept func(*message) bool) *tap {
	t.Helper()
	tp := &tap{queue: queue, hold: hold, accept: accept, reject: map[string]int{}, signal: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	sub, err := tr.Consume(ctx, queue, 0, tp.deliver)
	if err != nil {
		t.Fatalf("consuming %s: %v", queue, err)
	}
	var once sync.Once
	tp.cancel = func() error {
		var err error
		once.Do(func() { err = sub.Cancel() })
		return err
	}
	t.Cleanup(func() { _ = tp.cancel() })
	return tp
}

// deliver runs on a transport goroutine and never blocks.
func (tp *tap) deliver(d *bridge.Delivery) {
	m := &message{queue: d.Queue, body: bytes.Clone(d.Body), headers: maps.Clone(d.Headers)}
	m.env, m.err = wire.Decode(m.body, 0)
	if tp.accept != nil && !tp.accept(m) {
		tp.mu.Lock()
		tp.reject[m.env.MessageID]++
		n := tp.reject[m.env.MessageID]
		if n > maxRejects {
			tp.strays = append(tp.strays, m)
		}
		tp.mu.Unlock()
		if n <= maxRejects {
			_ = d.Nack(true)
		} else {
			_ = d.Ack()
		}
		return
	}
	tp.mu.Lock()
	tp.msgs = append(tp.msgs, m)
	close(tp.signal)
	tp.signal = make(chan struct{})
	if tp.hold {
		tp.held = append(tp.held, d)
	}
	tp.mu.Unlock()
	if !tp.hold {
		_ = d.Ack()
	}
}

// take removes and returns the first message that match accepts, waiting up to timeout.
func (tp *tap) take(t testing.TB, what string, timeout time.Duration, match func(*message) bool) *message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		tp.mu.Lock()
		for i, m := range tp.msgs {
			if match(m) {
				tp.msgs = append(tp.msgs[:i:i], tp.msgs[i+1:]...)
				tp.mu.Unlock()
				return m
			}
		}
		signal := tp.signal
		tp.mu.Unlock()
		select {
		case <-signal:
		case <-deadline.C:
			tp.mu.Lock()
			var seen bytes.Buffer
			for _, m := range tp.msgs {
				fmt.Fprintf(&seen, "\n  %s", m)
			}
			tp.mu.Unlock()
			t.Fatalf("no %s on %s within %v; unclaimed deliveries there:%s", what, tp.queue, timeout, seen.String())
			return nil
		}
	}
}

// ackAll acknowledges the deliveries held so far: they leave the queue for good.
func (tp *tap) ackAll() {
	tp.mu.Lock()
	held := tp.held
	tp.held = nil
	tp.mu.Unlock()
	for _, d := range held {
		_ = d.Ack()
	}
}

func (tp *tap) strayMessages() []*message {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]*message(nil), tp.strays...)
}

// prober runs the Go registry and the Go mirrors of IntSummator and ProbeTarget in one
// actors.System, and speaks raw AMQP-level messages for the parties the captured run had
// in Python: SumRequester, the debug inspector and (later) HdrTester.
type prober struct {
	owner  *testing.T // the test the scene lives as long as
	g      *goldenSet
	tr     bridge.Transport
	sys    *actors.System
	tokens *tokenLog

	// Register bodies the Go components published, read off send-<registry> before the
	// registry ran.
	goRegister map[string]*message
	// Answers of the registry to the raw parties' registrations.
	rawRegister map[string]*message

	regTap *tap // recieve-<registry>: answers to raw parties only

	mu   sync.Mutex
	raw  map[string]*tap // raw party → tap on its recieve-<sid>
	hdls map[string]*component.Handle
}

// startProber builds the scene of the captured run, in its registration order
// (IntSummator, SumRequester, ProbeTarget, inspector):
//
//  1. a tap holds send-<registry> while the Go IntSummator and ProbeTarget publish their
//     register requests, which are captured raw;
//  2. the captured bodies are taken off the queue and published again, interleaved with
//     the golden register bodies of SumRequester and the inspector;
//  3. the registry starts and serves the four registrations; the raw parties read their
//     answers off recieve-<registry>, where the Go components' registration consumers
//     read theirs.
func startProber(t *testing.T, g *goldenSet, mk newTransport) *prober {
	t.Helper()
	p := &prober{
		owner: t, g: g, tokens: &tokenLog{},
		goRegister: map[string]*message{}, rawRegister: map[string]*message{},
		raw: map[string]*tap{}, hdls: map[string]*component.Handle{},
	}
	var err error
	sc := mk(t)
	p.tr = sc.raw
	p.sys, err = actors.New(actors.WithBroker(sc.broker))
	if err != nil {
		t.Fatalf("actors.New: %v", err)
	}
	// Registered first, so it runs after every tap has been cancelled.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		if err := p.sys.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()

	if err := p.tr.DeclareSession(ctx, wire.RegistrySession); err != nil {
		t.Fatalf("declaring the registry's queues: %v", err)
	}
	capture := newTap(t, p.tr, wire.SendQueue(wire.RegistrySession), true, nil)

	type spawned struct {
		h   *component.Handle
		err error
	}
	results := map[string]chan spawned{}
	spawn := func(def *component.Component) {
		ch := make(chan spawned, 1)
		results[def.Name()] = ch
		go func() {
			h, err := p.sys.Spawn(ctx, def)
			ch <- spawned{h, err}
		}()
		p.goRegister[def.Name()] = capture.take(t, "register request of the Go "+def.Name(), answerTimeout,
			func(m *message) bool { return m.env.Sender == def.Name() })
	}
	spawn(intSummator(p.tokens))
	spawn(probeTarget(p.tokens))

	p.regTap = newTap(t, p.tr, wire.RecieveQueue(wire.RegistrySession), false, func(m *message) bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.raw[m.env.Reciever] != nil
	})
	p.addRaw(t, ctx, requesterName)
	p.addRaw(t, ctx, inspectorName)

	capture.ackAll()
	if err := capture.cancel(); err != nil {
		t.Fatalf("cancelling the capture of send-<registry>: %v", err)
	}
	requester, inspector := g.seq(t, 2), g.seq(t, 14)
	// The Go bodies go back with the headers they were published with.
	order := []*message{
		p.goRegister[summatorName],
		{body: requester.body()},
		p.goRegister[probeName],
		{body: inspector.body()},
	}
	for _, m := range order {
		p.publish(t, wire.SendQueue(wire.RegistrySession), m.body, m.headers)
	}
	if _, err := p.sys.StartRegistry(ctx); err != nil {
		t.Fatalf("StartRegistry: %v", err)
	}
	for name, ch := range results {
		select {
		case r := <-ch:
			if r.err != nil {
				t.Fatalf("spawning the Go %s: %v", name, r.err)
			}
			p.hdls[name] = r.h
		case <-ctx.Done():
			t.Fatalf("the Go %s did not register within %v", name, setupTimeout)
		}
	}
	for _, req := range []*publish{requester, inspector} {
		id := req.env.MessageID
		p.rawRegister[req.env.Sender] = p.regTap.take(t, "register answer for "+req.env.Sender, answerTimeout,
			func(m *message) bool { return m.env.AnswerTo == id })
	}
	return p
}

// addRaw prepares a raw party: its queues exist and its recieve queue is read.
func (p *prober) addRaw(t *testing.T, ctx context.Context, name string) *tap {
	t.Helper()
	sid := wire.SessionID(name)
	if err := p.tr.DeclareSession(ctx, sid); err != nil {
		t.Fatalf("declaring the queues of %s: %v", name, err)
	}
	tp := newTap(p.owner, p.tr, wire.RecieveQueue(sid), false, nil)
	p.mu.Lock()
	p.raw[name] = tp
	p.mu.Unlock()
	return tp
}

// registerRaw registers a raw party with a golden register body and returns the answer.
func (p *prober) registerRaw(t *testing.T, body []byte) *message {
	t.Helper()
	env, err := wire.Decode(body, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	p.addRaw(t, ctx, env.Sender)
	p.publish(t, wire.SendQueue(wire.RegistrySession), body, nil)
	return p.regTap.take(t, "register answer for "+env.Sender, answerTimeout,
		func(m *message) bool { return m.env.AnswerTo == env.MessageID })
}

// publish hands body to the transport and waits for its confirmation.
func (p *prober) publish(t testing.TB, queue string, body []byte, h wire.Headers) {
	t.Helper()
	done := make(chan error, 1)
	p.tr.Publish(queue, body, h, func(err error) { done <- err })
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("publishing on %s: %v", queue, err)
		}
	case <-time.After(answerTimeout):
		t.Fatalf("publishing on %s: no confirmation within %v", queue, answerTimeout)
	}
}

// ask publishes a request body raw as its sender would (on send-<sender sid>, or on
// send-<registry> when direct) and returns the answer read off the sender's recieve
// queue (or recieve-<registry>).
func (p *prober) ask(t testing.TB, body []byte, h wire.Headers, direct bool) *message {
	t.Helper()
	env, err := wire.Decode(body, 0)
	if err != nil {
		t.Fatalf("request does not decode: %v", err)
	}
	queue, from := wire.SendQueue(wire.SessionID(env.Sender)), p.rawTap(t, env.Sender)
	if direct {
		queue, from = wire.SendQueue(wire.RegistrySession), p.regTap
	}
	p.publish(t, queue, body, h)
	return from.take(t, "answer to "+env.MessageID, answerTimeout, func(m *message) bool {
		return m.env.AnswerTo == env.MessageID
	})
}

func (p *prober) rawTap(t testing.TB, name string) *tap {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	tp := p.raw[name]
	if tp == nil {
		t.Fatalf("%s is not a raw party of the prober", name)
	}
	return tp
}

// checkStrays fails when a tap had to keep a message it did not want.
func (p *prober) checkStrays(t testing.TB) {
	t.Helper()
	for _, m := range p.regTap.strayMessages() {
		t.Errorf("a message on %s was requeued %d times and nobody took it: %s", m.queue, maxRejects, m)
	}
}

// traceEnv, when set, logs every publish of the transport (a debugging aid).
const traceEnv = "ATQ_GOLDEN_TRACE"

// tracing wraps a transport factory so that every publish is logged when $ATQ_GOLDEN_TRACE
// is set.
func tracing(mk newTransport) newTransport {
	if os.Getenv(traceEnv) == "" {
		return mk
	}
	return func(t *testing.T) scene {
		sc := mk(t)
		sc.raw = &traceTransport{Transport: sc.raw, t: t}
		return sc
	}
}

type traceTransport struct {
	bridge.Transport
	t *testing.T
	n atomic.Int64
}

func (tr *traceTransport) Publish(queue string, body []byte, h wire.Headers, done func(error)) {
	n := tr.n.Add(1)
	tr.t.Logf("publish #%d %s headers=%s %s", n, queue, showHeaders(h), body)
	tr.Transport.Publish(queue, body, h, done)
}
