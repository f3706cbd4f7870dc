// Package amqpbridge is the bridge.Transport over RabbitMQ, and the only code in the
// project that imports amqp091-go.
//
// A Transport owns one AMQP connection at a time (named by the connection_name client
// property, see WithConnectionName) and, when it is lost, dials a new one by itself. It does
// not use amqp091-go's own recovery. Everything tied to one connection lives in a link
// value: the connection and these channels on it:
//
//   - the publishing channel, in confirm mode, on which only the publisher goroutine
//     publishes;
//   - up to 64 declare channels, each used by one DeclareSession, Stat, Drain or delete
//     call at a time and replaced after a failed declare (which closes it); opened as
//     calls need them, and kept;
//   - one channel per subscription, with its own basic.qos prefetch; except the
//     subscriptions of ConsumeExclusiveShared, which share SharedShards channels per
//     prefetch, chosen by a hash of the queue's name (the registry's consumers of its
//     components' send queues, and the components of a process consuming their own
//     recieve queues); the consumers of a shared channel take turns for its RPCs
//     (basic.consume, basic.cancel): amqp091-go gives a reply to whichever caller waits.
//
// # Goroutines
//
// All are owned by the Transport; Close stops each of them and waits for it.
//
//   - keeper (one; only when reconnection is enabled): waits for the current link to go
//     down, then redials with backoff and sets the new link up (see Reconnection);
//   - publisher (one): takes what Publish queued and publishes it on the current link
//     without waiting for confirms; holds the queue while there is no link;
//   - watcher (one per link): drains the connection's close and blocked notifications
//     (buffered, always read) and takes the link down when the connection or its
//     publishing channel fails;
//   - confirmer (one per link, started by the publisher): waits for the confirms of what
//     was published on that link, in publish order, and calls each done;
//   - one per subscription and link: ranges over the deliveries and calls deliver. Cancel
//     or the end of the link stops it; after a reconnect the keeper starts the next one
//     only once the previous one has returned, so deliver is never called concurrently.
//   - short-lived ones for DeclareSession, Consumers and Consume, so that their ctx is
//     honoured even when the broker does not answer.
//
// # Publishing
//
// Publish never waits on the network: it queues the message and returns. Each done is
// called exactly once, from the publisher or a confirmer (or from Publish itself when the
// transport is closed or its connection is lost for good): nil on the broker's ack,
// bridge.ErrNoQueue, ErrNacked, ErrConfirmTimeout, bridge.ErrConnectionLost, or
// bridge.ErrClosed when Close came first. Messages go to the default exchange with the
// queue name as routing key, mandatory (the broker returns a message for a queue that does
// not exist, before its ack; the confirmer matches the two and reports bridge.ErrNoQueue,
// as the embedded transport does), delivery mode 1 (transient), and no property but the
// headers (and the expiration, with PublishExpiring).
//
// # Deliveries and acknowledgement
//
// Consumers use manual acknowledgement. A bridge.Delivery must be settled once with Ack or
// Nack; at most prefetch deliveries per subscription are unsettled at a time. RabbitMQ
// requeues (with Redelivered set) what is unsettled when the subscription is cancelled or
// the connection is lost. Settling a delivery after Cancel returns an error and has no
// effect; settling one whose connection was lost returns nil and has no effect (delivery
// tags belong to a channel; the message comes again on the new one). Headers arrive as
// sent: a string or []byte auth_token stays as it is, a void one is nil. deliver must not
// block, and must not call Cancel or Close (both wait for it).
//
// # Reconnection
//
// When the connection is lost (the broker closes it, the socket fails, a heartbeat is
// missed, or the publishing channel fails) the transport logs why at Error and the keeper
// redials until it succeeds or Close is called: before attempt n it waits
// WithReconnect's Backoff.Delay(n) (default 100ms doubling to 5s, half of it random;
// logged at Warn with the delay and the last error), and each attempt is bounded by 10s.
// On success it logs "reconnected to RabbitMQ" at Info after it has, on the new
// connection, with the same name and heartbeat:
//
//   - opened the publishing channel in confirm mode;
//   - redeclared the queues of every session DeclareSession has declared so far;
//   - resumed every subscription not cancelled, on a new channel with its prefetch. The
//     Subscription values stay valid and their deliver keeps being called.
//
// Only then is the transport Connected again. Meanwhile:
//
//   - Publish holds messages and sends them after the reconnect; a message still held
//     when its confirm timeout (counted from the Publish call) runs out gets
//     bridge.ErrConnectionLost. Messages sent but not confirmed when the connection
//     dropped get bridge.ErrConnectionLost: the broker may or may not have them, so the
//     layer above republishes and deduplicates by message_id. Who prefers to fail at once
//     checks Connected first (bridge.Publish.FailFast does).
//   - DeclareSession, Consumers and Consume wait for the connection within their ctx; when
//     ctx ends first the error matches both bridge.ErrConnectionLost and ctx.Err(). A call
//     cut short by the loss is made again on the new connection. Consume registers the
//     subscription at once, so a reconnect while it waits resumes it too.
//   - Cancel returns at once and the subscription is not resumed.
//   - A subscription whose channel alone the broker closes while the connection stays up
//     (consumer_timeout, a channel error) ends with a Warn; it is resumed only at the next
//     reconnect. One whose queue is gone when it is resumed is logged and stays idle
//     until cancelled.
//   - Close stops the keeper, aborts a dial in progress, fails held publishes with
//     bridge.ErrClosed and waits for every goroutine.
//
// With WithReconnect(supervision.Backoff{}) (Max 0) the first loss is final: held and
// unconfirmed publishes fail with bridge.ErrConnectionLost, consumers end, and every later
// call fails with bridge.ErrConnectionLost until Close.
package amqpbridge
