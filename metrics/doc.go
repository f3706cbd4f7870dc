// Package metrics holds the Prometheus collectors of an AT Queue process: what the
// registry routes (calls per receiver and method, their outcomes, the time from a request
// to its answer as the registry sees them), how many components are registered and alive,
// how deep their queues are, the end-to-end time of the calls Go components make, method
// panics, supervisor restarts and stops, and reconnections. It uses the Prometheus client
// library; Handler serves the exposition format.
//
// Any Go process can expose them, not only `atq registry` (which serves them at /metrics
// on its HTTP address):
//
//	m := metrics.New()
//	sys, err := actors.New(actors.WithBroker(b), actors.WithMetrics(m))
//	...
//	srv, err := m.Serve(ctx, "127.0.0.1:9464") // GET http://127.0.0.1:9464/metrics
//	...
//	defer srv.Close()
//
// A nil *Metrics is valid and records nothing, so the runtime calls it unconditionally.
// Its methods are safe for concurrent use.
//
// Goroutines: Serve starts two, owned by the Server it returns (the HTTP server's, and
// one that shuts it down when the context ends); Close, or the end of the context
// followed by Close, stops both and waits for them.
package metrics
