package amqpbridge_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/at-technology/atqueue/bridge"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/wire"
	amqp "github.com/rabbitmq/amqp091-go"
)

// idleConsumers is how many queues the transport under test consumes besides the echo's.
const idleConsumers = 1000

// BenchmarkEchoBesideIdleConsumers measures the p50 of a round trip through a transport
// (a raw client publishes, the transport's consumer answers through the transport) that
// also consumes 1,000 idle queues, as a registry consumes 1,000 components' send queues:
// each on a channel of its own (Consume), or all on one shared channel
// (ConsumeExclusiveShared), against the same transport with no idle consumer. The three
// take turns for echoRounds rounds (this machine's speed drifts); the ratios are the
// medians of the rounds'. Run with -bench EchoBesideIdleConsumers -benchtime 1000x.
func BenchmarkEchoBesideIdleConsumers(b *testing.B) {
	url := rabbittest.VHost(b)
	ctx := ctxFor(b)
	var none, own, shared []float64
	for round := range echoRounds {
		for _, mode := range []string{"none", "own", "shared"} {
			tr := dial(b, url)
			if mode != "none" {
				for i := range idleConsumers {
					sid := wire.SessionID(fmt.Sprintf("idle-%d-%s-%04d", round, mode, i))
					if err := tr.DeclareSession(ctx, sid); err != nil {
						b.Fatal(err)
					}
					consume := tr.Consume
					if mode == "shared" {
						consume = func(ctx context.Context, q string, n int, f func(*bridge.Delivery)) (bridge.Subscription, error) {
							return tr.ConsumeExclusiveShared(ctx, q, n, f, nil)
						}
					}
					if _, err := consume(ctx, wire.SendQueue(sid), 16, func(d *bridge.Delivery) { _ = d.Ack() }); err != nil {
						b.Fatal(err)
					}
				}
			}
			p := echoP50(b, url, tr, b.N)
			switch mode {
			case "none":
				none = append(none, p)
			case "own":
				own = append(own, p/none[round])
			default:
				shared = append(shared, p/none[round])
			}
			if err := tr.Close(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(median(none), "p50_ms_none")
	b.ReportMetric(median(own), "ratio_own_channels")
	b.ReportMetric(median(shared), "ratio_shared_channel")
}

// echoRounds is how many times each arrangement is measured.
const echoRounds = 3

func median(v []float64) float64 {
	v = slices.Clone(v)
	slices.Sort(v)
	return v[len(v)/2]
}

// echoP50 makes n round trips: a raw client publishes on a queue that tr consumes, tr's
// consumer publishes the body back through tr to a queue the client consumes.
func echoP50(b *testing.B, url string, tr *amqpbridge.Transport, n int) float64 {
	b.Helper()
	ctx := ctxFor(b)
	sid := wire.SessionID(fmt.Sprintf("echo-%d", time.Now().UnixNano()))
	if err := tr.DeclareSession(ctx, sid); err != nil {
		b.Fatal(err)
	}
	in, out := wire.SendQueue(sid), wire.RecieveQueue(sid)
	sub, err := tr.Consume(ctx, in, 16, func(d *bridge.Delivery) {
		tr.Publish(out, d.Body, nil, func(error) { _ = d.Ack() })
	})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = sub.Cancel() }()
	raw := rabbittest.Channel(b, url)
	back, err := raw.Consume(out, "", true, false, false, false, nil)
	if err != nil {
		b.Fatal(err)
	}
	lat := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if err := raw.Publish("", in, false, false, amqp.Publishing{Body: []byte(`{}`)}); err != nil {
			b.Fatal(err)
		}
		select {
		case <-back:
		case <-time.After(10 * time.Second):
			b.Fatal("no echo within 10s")
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	return float64(lat[len(lat)/2]) / float64(time.Millisecond)
}
