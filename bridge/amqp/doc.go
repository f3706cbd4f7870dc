// Package amqpbridge is the bridge.Transport over RabbitMQ, and the only code in the
// project that imports amqp091-go.
//
// A Transport owns one AMQP connection (named by the connection_name client property,
// see WithConnectionName) and these channels on it:
//
//   - the publishing channel, in confirm mode, on which only the publisher goroutine
//     publishes;
//   - the declare channel, used by one DeclareSession or Consumers call at a time and
//     reopened after a failed declare (which closes it);
//   - one channel per subscription, with its own basic.qos prefetch.
//
// # Goroutines
//
// All are owned by the Transport; Close stops each of them and waits for it.
//
//   - watcher: drains the connection's close and blocked notifications (buffered, always
//     read) and takes the connection down when it or the publishing channel fails;
//   - publisher: takes what Publish queued and publishes it without waiting for confirms;
//   - confirmer: waits for the confirms in publish order and calls each done;
//   - one per subscription: ranges over the deliveries and calls deliver. Cancel or the
//     end of the connection stops it.
//   - short-lived ones for DeclareSession, Consumers and Consume, so that their ctx is
//     honoured even when the broker does not answer.
//
// # Publishing
//
// Publish never waits on the network: it queues the message and returns. Each done is
// called exactly once, from the confirmer (or from Publish itself when the transport is
// closed or has lost its connection): nil on the broker's ack, ErrNacked, ErrConfirmTimeout,
// bridge.ErrConnectionLost when the connection went away first, bridge.ErrClosed when
// Close did. Messages go to the default exchange with the queue name as routing key,
// mandatory false (a message for a queue that does not exist is confirmed and dropped by
// the broker), delivery mode 1 (transient), and no property but the headers (and the
// expiration, with PublishExpiring).
//
// # Deliveries and acknowledgement
//
// Consumers use manual acknowledgement. A bridge.Delivery must be settled once with Ack or
// Nack; at most prefetch deliveries per subscription are unsettled at a time. RabbitMQ
// requeues (with Redelivered set) what is unsettled when the subscription is cancelled or
// the connection is lost; settling such a delivery afterwards returns an error and has no
// effect. Headers arrive as sent: a string or []byte auth_token stays as it is, a void
// one is nil. deliver must not block, and must not call Cancel or Close (both wait for it).
//
// # Connection loss
//
// When the connection is lost the transport logs why, fails queued and unconfirmed
// publishes with bridge.ErrConnectionLost and ends its consumers; later calls fail with
// bridge.ErrConnectionLost until Close. It does not reconnect yet: everything that
// belongs to one connection lives in a link value, which a reconnect loop can replace.
package amqpbridge
