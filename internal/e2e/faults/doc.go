// Package faults holds no code: its tests inject faults while a caller keeps 64 calls in
// flight through the registry to a component, each in its own process, and account for
// every call afterwards.
//
// The caller runs in the test process (an actor system over its own AMQP connection);
// the registry (cmd/atq registry --state FILE) and the component (cmd/counter, which
// journals every execution) are built once by TestMain and run as processes. Each call
// carries a unique id and is retried with the same id on a timeout, a lost connection, or
// a target that is unknown or not alive, until an overall deadline. Afterwards one line
// per fault is printed and asserted:
//
//	fault=<name> calls=N answered=N lost=0 executed_twice=0
//
// answered counts calls that got their own id back; executed_twice counts ids that the
// Counter's journal shows executed more than once, across every incarnation of the
// process.
//
// The faults:
//
//   - connection_cut: a TCP proxy inside the test (internal/testkit/proxy) sits between
//     every client and the broker and closes all its connections at once (like
//     `rabbitmqctl close_all_connections`, without touching other tests' connections);
//   - registry_restart: SIGKILL the registry process and start it again on its state file;
//   - component_restart: SIGKILL the Counter process and start it again; it gets its
//     queue pair back (same session id) and serves what waited in its queue;
//   - broker_restart: `rabbitmqctl stop_app` and `start_app` on a RabbitMQ node of the
//     test's own, on free ports in a temporary folder, so other tests are not disturbed.
//
// The Counter waits 10 ms between journalling an execution and answering (--hold), so
// that a fault reliably leaves executed requests unacknowledged and the redelivery path is
// exercised, and takes at most 16 requests at once (--prefetch), so that most of the 64
// in flight wait in its queue, where a broker restart loses them. A redelivery to a restarted Counter, or a retry (a new message with the same
// id), would run exec again: component.WithDedupeWindow only remembers message_ids, in
// memory. The Counter therefore keeps its dedupe durable in its journal (see
// cmd/counter); journal_skips in the detail line counts the requests it answered that
// way. ATQ_FAULTS_NO_DURABLE_DEDUPE=1 turns that off to show what the runtime alone
// gives (component_restart then ends with executed_twice > 0).
//
// TestSumRequesterComponentRestart runs examples/sumrequester --bench 200 --concurrency
// 16 --retry while the IntSummator process is killed and restarted, and
// TestSumRequesterBrokerRestart runs it while the own node's application is stopped and
// started (with the IntSummator frozen meanwhile, so that the short runs cannot end
// before the fault lands); both require its JSON lines to report errors 0 and each fault
// to be over before the run it was aimed at has ended.
//
// Environment: RABBITMQ_SERVER names the rabbitmq-server script for the own node (default
// /usr/lib/rabbitmq/bin/rabbitmq-server, else the one on $PATH); rabbitmqctl is taken from
// the same folder. The node needs no root; it keeps everything, its Erlang cookie too, in
// the test's temporary folder.
package faults
