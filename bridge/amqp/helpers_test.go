package amqpbridge_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/at-technology/atqueue/bridge"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/internal/testkit/testlog"
	amqp "github.com/rabbitmq/amqp091-go"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// dial connects to url and closes the transport when the test ends.
func dial(t testing.TB, url string, opts ...amqpbridge.Option) *amqpbridge.Transport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr, err := amqpbridge.Dial(ctx, url, append([]amqpbridge.Option{amqpbridge.WithLogger(testlog.New(t))}, opts...)...)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() {
		if err := tr.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return tr
}

// ctxFor bounds a whole test. It is generous: CI runs the packages' tests side by side on
// two cores, and a test that spends most of it has failed anyway.
func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// vhostOf is the virtual host a rabbittest URL names.
func vhostOf(t testing.TB, url string) string {
	t.Helper()
	u, err := amqp.ParseURI(url)
	if err != nil {
		t.Fatal(err)
	}
	return u.Vhost
}

// inbox collects deliveries without blocking the transport's goroutine.
type inbox struct {
	ch chan *bridge.Delivery
}

func newInbox() *inbox { return &inbox{ch: make(chan *bridge.Delivery, 100000)} }

func (b *inbox) deliver(d *bridge.Delivery) { b.ch <- d }

func (b *inbox) next(t testing.TB) *bridge.Delivery {
	t.Helper()
	select {
	case d := <-b.ch:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery within 10s")
		return nil
	}
}

// none checks that nothing arrives for a while.
func (b *inbox) none(t testing.TB, wait time.Duration) {
	t.Helper()
	select {
	case d := <-b.ch:
		t.Fatalf("unexpected delivery %q", d.Body)
	case <-time.After(wait):
	}
}

// publishWait publishes and waits for the confirm.
func publishWait(t testing.TB, tr bridge.Transport, queue string, body []byte, h map[string]any) {
	t.Helper()
	errc := make(chan error, 1)
	tr.Publish(queue, body, h, func(err error) { errc <- err })
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("publish to %s: %v", queue, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("publish to %s: no done within 10s", queue)
	}
}

// doneCounter records the outcomes of many publishes, each of which must complete once.
type doneCounter struct {
	mu      sync.Mutex
	calls   map[int]int
	errs    map[int]error
	total   int
	want    int
	allDone chan struct{}
}

func newDoneCounter(want int) *doneCounter {
	return &doneCounter{calls: map[int]int{}, errs: map[int]error{}, want: want, allDone: make(chan struct{})}
}

func (c *doneCounter) done(i int) func(error) {
	return func(err error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.calls[i]++
		if err != nil {
			c.errs[i] = err
		}
		c.total++
		if c.total == c.want {
			close(c.allDone)
		}
	}
}

func (c *doneCounter) wait(t testing.TB, within time.Duration) {
	t.Helper()
	select {
	case <-c.allDone:
	case <-time.After(within):
		select {
		case <-c.allDone:
		default:
			c.mu.Lock()
			defer c.mu.Unlock()
			t.Fatalf("only %d of %d publishes completed within %v", c.total, c.want, within)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := 0; i < c.want; i++ {
		if c.calls[i] != 1 {
			t.Fatalf("done of publish %d called %d times", i, c.calls[i])
		}
	}
}
