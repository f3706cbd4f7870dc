package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Unknown is the label value for a receiver or method the registry does not know: labels
// take only names the directory holds, so a peer cannot make their number grow.
const Unknown = "unknown"

// Metrics are the collectors of one process.
type Metrics struct {
	reg *prometheus.Registry

	routed     *prometheus.CounterVec
	outcomes   *prometheus.CounterVec
	hop        *prometheus.HistogramVec
	inFlight   prometheus.Gauge
	registered prometheus.Gauge
	alive      prometheus.Gauge
	depth      *prometheus.GaugeVec

	calls   *prometheus.HistogramVec
	pending *prometheus.GaugeVec
	panics  *prometheus.CounterVec

	restarts   *prometheus.CounterVec
	stops      *prometheus.CounterVec
	reconnects prometheus.Counter
}

// latency buckets, from a fraction of a millisecond (in process) to the call timeout.
var buckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// New makes the collectors, registered in a registry of their own with the Go runtime's
// and the process's.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.routed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atq_registry_calls_routed_total",
		Help: "Requests the registry routed to a component, by receiver and method (the message type for the built-ins)."}, []string{"receiver", "method"})
	m.outcomes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atq_registry_call_outcomes_total",
		Help: "Answers the registry routed or gave, by receiver, method and outcome (ok, or the kind of error)."}, []string{"receiver", "method", "outcome"})
	m.hop = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "atq_registry_call_seconds",
		Help: "Time from a request passing the registry to its answer passing it.", Buckets: buckets}, []string{"receiver", "method"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "atq_registry_calls_in_flight",
		Help: "Requests routed whose answer the registry has not seen yet."})
	m.registered = prometheus.NewGauge(prometheus.GaugeOpts{Name: "atq_registry_components",
		Help: "Components in the registry's directory."})
	m.alive = prometheus.NewGauge(prometheus.GaugeOpts{Name: "atq_registry_components_alive",
		Help: "Components in the directory that are not found dead."})
	m.depth = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "atq_queue_messages",
		Help: "Messages waiting in a component's recieve queue at the registry's last check."}, []string{"component"})
	m.calls = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "atq_call_seconds",
		Help: "End-to-end time of the calls this process's components made, by receiver, method and outcome.", Buckets: buckets},
		[]string{"receiver", "method", "outcome"})
	m.pending = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "atq_calls_pending",
		Help: "Calls a component of this process waits for."}, []string{"component"})
	m.panics = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atq_method_panics_total",
		Help: "Requests whose method panicked (answered with ComponentCrashedException)."}, []string{"component", "method"})
	m.restarts = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atq_supervisor_restarts_total",
		Help: "Restarts decided by supervisors, by actor (a component's name, bridge, registry)."}, []string{"actor"})
	m.stops = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "atq_supervisor_stops_total",
		Help: "Actors their supervisor stopped for good (past their restart intensity)."}, []string{"actor"})
	m.reconnects = prometheus.NewCounter(prometheus.CounterOpts{Name: "atq_bridge_reconnects_total",
		Help: "Connections to the broker restored after a loss."})
	m.reg.MustRegister(m.routed, m.outcomes, m.hop, m.inFlight, m.registered, m.alive, m.depth,
		m.calls, m.pending, m.panics, m.restarts, m.stops, m.reconnects,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where the collectors are registered, for a program that adds its own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the collectors in Prometheus's exposition format (for /metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Routed counts a request the registry routed.
func (m *Metrics) Routed(receiver, method string) {
	if m == nil {
		return
	}
	m.routed.WithLabelValues(receiver, method).Inc()
}

// Answered counts an answer and observes the time since its request, when known (took > 0).
func (m *Metrics) Answered(receiver, method, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	m.outcomes.WithLabelValues(receiver, method, outcome).Inc()
	if took > 0 {
		m.hop.WithLabelValues(receiver, method).Observe(took.Seconds())
	}
}

// InFlight sets how many routed requests wait for their answer.
func (m *Metrics) InFlight(n int) {
	if m != nil {
		m.inFlight.Set(float64(n))
	}
}

// Components sets the directory's size and how many of its components are alive.
func (m *Metrics) Components(registered, alive int) {
	if m != nil {
		m.registered.Set(float64(registered))
		m.alive.Set(float64(alive))
	}
}

// QueueDepth sets the messages waiting in component's queue; Forget drops it.
func (m *Metrics) QueueDepth(component string, messages int) {
	if m != nil {
		m.depth.WithLabelValues(component).Set(float64(messages))
	}
}

// Forget drops what is kept by component's name (it left the directory).
func (m *Metrics) Forget(component string) {
	if m != nil {
		m.depth.DeleteLabelValues(component)
	}
}

// Call observes a call a Go component made, end to end.
func (m *Metrics) Call(receiver, method, outcome string, took time.Duration) {
	if m != nil {
		m.calls.WithLabelValues(receiver, method, outcome).Observe(took.Seconds())
	}
}

// Pending sets the calls component waits for.
func (m *Metrics) Pending(component string, n int) {
	if m != nil {
		m.pending.WithLabelValues(component).Set(float64(n))
	}
}

// Panic counts a method panic.
func (m *Metrics) Panic(component, method string) {
	if m != nil {
		m.panics.WithLabelValues(component, method).Inc()
	}
}

// Restart counts a supervisor's restart of actor; Stop its stop for good.
func (m *Metrics) Restart(actor string) {
	if m != nil {
		m.restarts.WithLabelValues(actor).Inc()
	}
}

// Stop counts an actor stopped for good by its supervisor.
func (m *Metrics) Stop(actor string) {
	if m != nil {
		m.stops.WithLabelValues(actor).Inc()
	}
}

// Reconnect counts a restored connection.
func (m *Metrics) Reconnect() {
	if m != nil {
		m.reconnects.Inc()
	}
}
