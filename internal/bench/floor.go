package bench

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/wire"
	amqp "github.com/rabbitmq/amqp091-go"
)

// BareRegistrations is the broker's floor under a registration burst: the AMQP operations
// of n registrations, made by a bare amqp091-go client with none of the project's code.
// One connection plays the components: parallel workers each declare a component's
// durable send- and recieve- queues, consume the recieve- queue as its only consumer,
// publish a registration (confirmed) on the registry's queue and wait for the answer.
// Another plays the registry: it consumes its queue and, for each registration, consumes
// the component's send- queue as its only consumer and publishes the answer (confirmed)
// on the recieve- queue. Each connection's consumers share SharedShards channels, their
// RPCs one at a time, as the transport's do. Components are named <prefix><4-digit
// index>. On a fresh virtual host it measures creating what a burst creates; run again on
// the same one (new connections, the queues there), what a burst of the same names costs.
// No caller, probe or description: the burst measured beside it has all three.
func BareRegistrations(ctx context.Context, url, prefix string, n, parallel int) (took time.Duration, err error) {
	dial := func() (*amqp.Connection, error) {
		return amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	}
	reg, err := dial()
	if err != nil {
		return 0, fmt.Errorf("bare registry: %w", err)
	}
	defer reg.Close()
	comps, err := dial()
	if err != nil {
		return 0, fmt.Errorf("bare components: %w", err)
	}
	defer comps.Close()

	r, err := newBareSide(reg, 1)
	if err != nil {
		return 0, fmt.Errorf("bare registry: %w", err)
	}
	regQueue := wire.SendQueue(wire.RegistrySession)
	if _, err := r.decl[0].QueueDeclare(regQueue, true, false, false, false, nil); err != nil {
		return 0, fmt.Errorf("bare registry: declaring %s: %w", regQueue, err)
	}
	requests, err := r.consume(regQueue)
	if err != nil {
		return 0, fmt.Errorf("bare registry: %w", err)
	}
	c, err := newBareSide(comps, parallel)
	if err != nil {
		return 0, fmt.Errorf("bare components: %w", err)
	}

	ctx, cancel := context.WithCancelCause(ctx)
	reader := make(chan struct{})
	defer func() { // the registry's connection ends its reader, which waits for what it started
		cancel(nil)
		_ = reg.Close() // a second Close does nothing
		<-reader
	}()
	go func() {
		defer close(reader)
		var served sync.WaitGroup
		defer served.Wait()
		for d := range requests {
			_ = d.Ack(false)
			sid := string(d.Body)
			served.Go(func() {
				if err := r.register(ctx, sid); err != nil {
					cancel(fmt.Errorf("bare registry: %w", err))
				}
			})
		}
	}()

	start := time.Now()
	var wg sync.WaitGroup
	for w := range parallel {
		wg.Go(func() {
			for i := w; i < n && ctx.Err() == nil; i += parallel {
				if err := c.component(ctx, w, fmt.Sprintf("%s%04d", prefix, i), regQueue); err != nil {
					cancel(fmt.Errorf("bare components: %w", err))
				}
			}
		})
	}
	wg.Wait()
	took = time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return 0, err
	}
	return took, nil
}

// bareSide is one connection of BareRegistrations: channels that declare, shared
// consumer channels, and a confirmed publisher.
type bareSide struct {
	decl   []*amqp.Channel
	shards [amqpbridge.SharedShards]struct {
		mu sync.Mutex // RPCs one at a time
		ch *amqp.Channel
	}
	pubMu sync.Mutex
	pub   *amqp.Channel
}

func newBareSide(conn *amqp.Connection, declarers int) (*bareSide, error) {
	s := &bareSide{decl: make([]*amqp.Channel, declarers)}
	var err error
	for i := range s.decl {
		if s.decl[i], err = conn.Channel(); err != nil {
			return nil, err
		}
	}
	for i := range s.shards {
		if s.shards[i].ch, err = conn.Channel(); err != nil {
			return nil, err
		}
		if err := s.shards[i].ch.Qos(barePrefetch, 0, false); err != nil {
			return nil, err
		}
	}
	if s.pub, err = conn.Channel(); err != nil {
		return nil, err
	}
	return s, s.pub.Confirm(false)
}

// barePrefetch bounds the unacknowledged deliveries of a shared channel of the floor.
const barePrefetch = 64

// consume makes the only consumer of queue, on the shared channel of its hash.
func (s *bareSide) consume(queue string) (<-chan amqp.Delivery, error) {
	h := fnv.New32a() // spread by name, as the transport spreads its shared consumers
	_, _ = h.Write([]byte(queue))
	sh := &s.shards[h.Sum32()%amqpbridge.SharedShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	d, err := sh.ch.Consume(queue, "", false, true, false, false, nil)
	if err != nil {
		return nil, fmt.Errorf("consuming %s: %w", queue, err)
	}
	return d, nil
}

// publish publishes body on queue and waits for the broker's confirmation.
func (s *bareSide) publish(ctx context.Context, queue string, body []byte) error {
	s.pubMu.Lock()
	dc, err := s.pub.PublishWithDeferredConfirmWithContext(ctx, "", queue, false, false, amqp.Publishing{Body: body, DeliveryMode: amqp.Transient})
	s.pubMu.Unlock()
	if err != nil {
		return fmt.Errorf("publishing on %s: %w", queue, err)
	}
	if ok, err := dc.WaitContext(ctx); err != nil || !ok {
		return errors.Join(fmt.Errorf("publishing on %s: not confirmed", queue), err)
	}
	return nil
}

// register is the registry's part of one registration.
func (s *bareSide) register(ctx context.Context, sid string) error {
	if _, err := s.consume(wire.SendQueue(sid)); err != nil {
		return err
	}
	return s.publish(ctx, wire.RecieveQueue(sid), []byte(sid))
}

// component is a component's part of one registration, on declaring channel w.
func (s *bareSide) component(ctx context.Context, w int, name, regQueue string) error {
	sid := wire.SessionID(name)
	if err := declarePair(s.decl[w], sid); err != nil {
		return err
	}
	answers, err := s.consume(wire.RecieveQueue(sid))
	if err != nil {
		return err
	}
	if err := s.publish(ctx, regQueue, []byte(sid)); err != nil {
		return err
	}
	select {
	case d, ok := <-answers:
		if !ok {
			return fmt.Errorf("no answer for %s: its consumer ended", name)
		}
		return d.Ack(false)
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// declarePair declares the durable send- and recieve- queues of session sid on ch, as the
// newest at_queue declares them.
func declarePair(ch *amqp.Channel, sid string) error {
	for _, q := range []string{wire.SendQueue(sid), wire.RecieveQueue(sid)} {
		if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
			return fmt.Errorf("declaring %s: %w", q, err)
		}
	}
	return nil
}
