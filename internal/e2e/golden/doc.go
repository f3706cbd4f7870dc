// Package golden holds the wire-conformance tests of the Go registry and components
// against the traffic of the original Python at_queue package captured byte for byte in
// testdata/golden at the module root (see its README.md, and docs/protocol.md §4–§9, §13).
//
// The tests act as a Python peer would: they publish the golden request bodies raw onto
// the queues of a bridge.Transport, read the raw answer bodies off the queues, and compare
// them with the golden answers. The package has no non-test code; the transport is a
// parameter of the tests (func(*testing.T) bridge.Transport) so that the same cases can
// run over the embedded transport and over RabbitMQ (a RabbitMQ factory must hand out a
// fresh, empty vhost: the queues are durable and the golden message ids are fixed).
//
// Environment: ATQ_GOLDEN_TRACE=1 logs every publish.
package golden
