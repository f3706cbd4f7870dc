// Package bench is benchmark plumbing: the baseline that the Go runtime's calls over
// RabbitMQ are measured against, and the measuring loop both sides share. The programs
// that print the figures build on it: cmd/atqbench (Go against the baseline, make bench)
// and the requester with options (RequesterMain) that examples/sumrequester runs for
// --bench N --concurrency C and --retry.
//
// The baseline is a bare amqp091-go relay with the same four queue hops as an AT_QUEUE call
// (caller → send-<caller> → relay → recieve-<target> → target → send-<target> → relay →
// recieve-<caller> → caller), the same envelope bodies, durable queues, manual
// acknowledgement, prefetch bridge.DefaultPrefetch and publisher confirms (the relay and
// the target acknowledge a delivery once what it caused is confirmed), but without actors,
// schemas or validation. It imports amqp091-go directly, which the rest of the module
// leaves to bridge/amqp; that is allowed here only because this is measuring plumbing,
// not a transport.
//
// Run owns every goroutine and connection it starts and has stopped them all when it
// returns. Its queues have random names and are deleted at the end.
package bench
