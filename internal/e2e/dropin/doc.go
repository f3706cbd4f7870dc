// Package dropin holds no code: its tests show that the Go registry and components take
// the place of at_queue's in a deployment that exists, over the real RabbitMQ, with peers
// that declare, register and call exactly as at_queue components do
// (internal/testkit/pypeer): queue durability of either at_queue generation, registration
// bursts and stale answers on the shared queue, dead components found and answered for,
// one registry per virtual host and a standby that takes over.
package dropin
