package golden_test

import (
	"context"
	"testing"
	"time"

	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
)

// amqpTransport connects to a fresh virtual host of the real broker: the golden ids and
// session ids are fixed, so every run needs queues of its own.
func amqpTransport(t *testing.T) scene {
	url := rabbittest.VHost(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr, err := amqpbridge.Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return scene{raw: tr, broker: amqpbridge.NewBroker(url)}
}

// TestConformanceAMQP runs the same golden cases over RabbitMQ: what crosses the broker
// is the same bytes and headers as in process.
func TestConformanceAMQP(t *testing.T) { runConformance(t, amqpTransport) }

func TestStaleRegisterAnswerAMQP(t *testing.T) { testStaleRegisterAnswer(t, amqpTransport) }
