// Package bridge is the transport boundary. Transport is what carries message bodies
// between the AT_QUEUE queues (send-<sid>/recieve-<sid>) with RabbitMQ's semantics:
// durable queues, manual acknowledgement, a prefetch bound per consumer, requeue on nack
// and on cancel. Embedded implements it in process; bridge/amqp implements it over
// RabbitMQ. Nothing above this package can tell them apart.
//
// The bridge actor (Props) maps actor messages onto a Transport: Publish, Open (declare a
// session and consume a queue, answered with Opened), Release and Probe. It never blocks
// its mailbox: anything that can wait on the network runs on goroutines it owns and
// reports back as messages; it waits for them when it stops.
//
// Deliveries reach their owner through the deliver callback given to Open, called on a
// transport goroutine; it must not block (owners send the delivery to their actor). Each
// delivery is settled exactly once with Ack or Nack.
package bridge
