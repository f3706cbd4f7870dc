// Package bench is benchmark plumbing: the baselines that the Go runtime is measured
// against, the setups measured, and the measuring loops they share. The programs that
// print the figures build on it: cmd/atqbench (every figure of make bench, each against
// its baseline in the same run), cmd/atqhost (a process that registers many components on
// demand, for atqbench), and the requester with options (RequesterMain) that
// examples/sumrequester runs for --bench N --concurrency C and --retry.
//
// What is where:
//
//   - measure.go, rounds.go, line.go: Measure (n calls, some at once) and MeasureUntil,
//     Rounds (contenders interleaved, the median round kept), the JSON lines.
//   - relay.go: the bare amqp091-go relay, the baseline over RabbitMQ.
//   - pair.go: a Go caller and what it calls over RabbitMQ, by Route (direct, routed
//     through the registry, a Python-style peer).
//   - inproc.go: Call over the embedded transport beside a bare protoactor future.
//   - scale.go, burst.go: the registry with many components; host.go, regproc.go: the
//     processes they run (atqhost, `atq registry`); vhost.go: virtual hosts made with
//     rabbitmqctl; proc.go: CPU and memory figures read from /proc.
//
// The relay has the same four queue hops as an AT_QUEUE call (caller → send-<caller> →
// relay → recieve-<target> → target → send-<target> → relay → recieve-<caller> → caller),
// the same envelope bodies, durable queues, manual acknowledgement and prefetch
// bridge.DefaultPrefetch, without actors, schemas or validation. With publisher confirms
// (the default) the relay and the target acknowledge a delivery once what it caused is
// confirmed; WithoutConfirms acknowledges it once published, the floor of any design that
// routes every call through four hops. The relay and DeclareQueues import amqp091-go
// directly, which the rest of the module leaves to bridge/amqp; that is allowed here only
// because this is measuring plumbing, not a transport.
//
// Whatever starts goroutines, connections or processes here (Start, StartPair,
// StartInProcess, StartRegistryProc, StartHost, Scale.Run, Burst.Run) owns them and has
// stopped them all when its Close, Stop or Kill returns, or when it returns. The relay's
// queues have random names and are deleted at the end.
package bench
