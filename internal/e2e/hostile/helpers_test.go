package hostile_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/at-technology/atqueue/actors"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/internal/testkit/pypeer"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/wire"
	amqp "github.com/rabbitmq/amqp091-go"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// process is one actor system with its own AMQP connection, shut down at cleanup.
func process(t *testing.T, url string, log *slog.Logger, opts ...actors.Option) *actors.System {
	t.Helper()
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	opts = append([]actors.Option{actors.WithBroker(amqpbridge.NewBroker(url, amqpbridge.WithLogger(log))), actors.WithLogger(log)}, opts...)
	sys, err := actors.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := sys.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return sys
}

func deadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

type sumArgs struct {
	A int `json:"a"`
	B int `json:"b"`
}

func summator(name string, opts ...component.Option) *component.Component {
	c := component.New(name, opts...)
	component.Method(c, "int_sum", func(_ context.Context, in sumArgs) (int, error) { return in.A + in.B, nil })
	return c
}

// raw is a plain AMQP client: a peer that sends whatever it likes, and reads its queue.
type raw struct {
	t  *testing.T
	ch *amqp.Channel
	in <-chan amqp.Delivery
}

// rawPeer declares name's queue pair and reads its recieve queue.
func rawPeer(t *testing.T, url, name string) *raw {
	t.Helper()
	return rawSession(t, url, wire.SessionID(name))
}

// rawSession declares the queue pair of sid and reads its recieve queue.
func rawSession(t *testing.T, url, sid string) *raw {
	t.Helper()
	ch := rabbittest.Channel(t, url)
	for _, q := range []string{wire.SendQueue(sid), wire.RecieveQueue(sid)} {
		if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	in, err := ch.Consume(wire.RecieveQueue(sid), "", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &raw{t: t, ch: ch, in: in}
}

// publish sends body to queue with headers.
func (r *raw) publish(queue string, body []byte, h amqp.Table) {
	r.t.Helper()
	if err := r.ch.PublishWithContext(context.Background(), "", queue, false, false, amqp.Publishing{Body: body, Headers: h}); err != nil {
		r.t.Fatal(err)
	}
}

// answer waits for the answer to id on the peer's queue.
func (r *raw) answer(ctx context.Context, id string) wire.Answer {
	r.t.Helper()
	for {
		select {
		case d := <-r.in:
			env, err := wire.Decode(d.Body, 0)
			if err != nil || env.AnswerTo != id {
				continue
			}
			a, err := wire.DecodeAnswer(env.Message)
			if err != nil {
				r.t.Fatal(err)
			}
			return a
		case <-ctx.Done():
			r.t.Fatalf("no answer to %s", id)
		}
	}
}

func envelope(sender, reciever string, msg any) ([]byte, string) {
	payload, _ := json.Marshal(msg)
	env := wire.Envelope{Sender: sender, Reciever: reciever, Message: payload, MessageID: wire.NewID()}
	b, _ := env.Marshal()
	return b, env.MessageID
}

func pyRegister(t *testing.T, ctx context.Context, url, name string) *pypeer.Peer {
	t.Helper()
	p, err := pypeer.Register(ctx, url, pypeer.RegisterBody(name, wire.NewID()), pypeer.Since6ddd4b0,
		map[string]pypeer.Method{"int_sum": pypeer.IntSum})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// logWatch keeps every log record, so that a test can ask whether one was written.
type logWatch struct {
	mu    sync.Mutex
	lines []string
}

func (w *logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (w *logWatch) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w *logWatch) WithGroup(string) slog.Handler            { return w }
func (w *logWatch) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	w.lines = append(w.lines, r.Message)
	w.mu.Unlock()
	return nil
}

func (w *logWatch) has(msg string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.lines {
		if strings.Contains(l, msg) {
			return true
		}
	}
	return false
}
