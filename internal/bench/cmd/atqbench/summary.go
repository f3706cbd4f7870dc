package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/at-technology/atqueue/internal/bench"
)

// target is one figure of the issues with its bound.
type target struct {
	part   string
	key    string // its name in the summary line
	label  string // for people
	atMost bool   // the figure must be ≤ limit; else ≥
	limit  float64
	unit   string
}

// targets are every target of issues 10 and 11, in the summary's order.
var targets = []target{
	{"inproc", "inproc_concurrent_calls_per_s", "in process, Call with 64 in flight, calls/s", false, 100_000, "/s"},
	{"inproc", "inproc_serial_us_per_call", "in process, Call one at a time, µs per call", true, 20, " µs"},
	{"inproc", "inproc_concurrent_vs_future", "in process, Call / bare future, 64 in flight", false, 0.3, "×"},
	{"rabbit", "direct_concurrent_vs_relay", "RabbitMQ, Go→Go direct / bare relay, 64 in flight", false, 1.5, "×"},
	{"rabbit", "direct_serial_p50_vs_relay", "RabbitMQ, Go→Go direct / bare relay, serial p50", true, 0.8, "×"},
	{"rabbit", "routed_concurrent_vs_relay", "RabbitMQ, Go→registry→Go / bare relay, 64 in flight", false, 0.8, "×"},
	{"rabbit", "routed_serial_p50_vs_relay", "RabbitMQ, Go→registry→Go / bare relay, serial p50", true, 1.25, "×"},
	{"rabbit", "python_concurrent_vs_relay", "RabbitMQ, Go→registry→Python peer / bare relay, 64 in flight", false, 0.8, "×"},
	{"rabbit", "python_serial_p50_vs_relay", "RabbitMQ, Go→registry→Python peer / bare relay, serial p50", true, 1.25, "×"},
	{"scale", "scale_routed_p50_ratio", "scale, routed serial p50, last level / first", true, 1.2, "×"},
	{"scale", "scale_routed_p99_ratio", "scale, routed serial p99, last level / first", true, 1.2, "×"},
	{"scale", "scale_direct_p50_ratio", "scale, direct serial p50, last level / first", true, 1.2, "×"},
	{"scale", "scale_direct_p99_ratio", "scale, direct serial p99, last level / first", true, 1.2, "×"},
	{"burst", "burst_fresh_seconds", "burst on a fresh vhost, registration time, s", true, 3, " s"},
	{"burst", "burst_fresh_routed_max_ms", "burst on a fresh vhost, routed caller's max latency", true, 100, " ms"},
	{"burst", "burst_fresh_direct_max_ms", "burst on a fresh vhost, direct caller's max latency", true, 100, " ms"},
	{"burst", "burst_existing_seconds", "burst again, queues there, registration time, s", true, 3, " s"},
	{"burst", "burst_existing_routed_max_ms", "burst again, queues there, routed caller's max latency", true, 100, " ms"},
	{"burst", "burst_existing_direct_max_ms", "burst again, queues there, direct caller's max latency", true, 100, " ms"},
}

// summaryItem is a target in the summary line.
type summaryItem struct {
	Name   string  `json:"name"`
	Part   string  `json:"part"`
	Value  any     `json:"value"` // null when not measured
	Target string  `json:"target"`
	Limit  float64 `json:"limit"`
	Met    bool    `json:"met"`
	Errors int     `json:"errors"`
}

// result is a measured figure: its value, the failed calls or registrations behind it
// (a figure with failures does not meet its target), and how it came about.
type result struct {
	value  float64
	errors int
	detail string
}

type results map[string]result

func (r results) set(key string, value float64, errors int, detail string) {
	r[key] = result{value: value, errors: errors, detail: detail}
}

// bound is a target's condition, e.g. "≤ 1.25×".
func (t target) bound() string {
	op := "≥"
	if t.atMost {
		op = "≤"
	}
	return op + " " + figure(t.limit, t.unit)
}

func figure(x float64, unit string) string {
	switch {
	case math.Abs(x) >= 1000:
		return strconv.FormatFloat(math.Round(x), 'f', -1, 64) + unit
	case math.Abs(x) >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64) + unit
	}
	return strconv.FormatFloat(x, 'f', 2, 64) + unit
}

// summary prints the summary line on stdout and the summary for people on stderr, and
// reports whether every target of the parts that ran was met.
func (b *benchRun) summary(loadStart string) bool {
	var (
		list                  []summaryItem
		met, missed, notThere int
		people                []string
	)
	for _, t := range targets {
		if !b.parts[t.part] {
			continue
		}
		r, ok := b.results[t.key]
		ok = ok && !math.IsNaN(r.value) && !math.IsInf(r.value, 0)
		item := summaryItem{Name: t.key, Part: t.part, Target: t.bound(), Limit: t.limit}
		verdict := "NOT MEASURED"
		if !ok {
			notThere++
		} else {
			good := r.errors == 0 && (t.atMost && r.value <= t.limit || !t.atMost && r.value >= t.limit)
			item.Value, item.Met, item.Errors = bench.Num(r.value, 3), good, r.errors
			if good {
				met++
				verdict = "met"
			} else {
				missed++
				verdict = "MISSED"
			}
		}
		list = append(list, item)
		shown := "—"
		if ok {
			shown = figure(r.value, t.unit)
		}
		label := strings.ReplaceAll(t.label, "64 in flight", strconv.Itoa(b.inflight)+" in flight")
		line := fmt.Sprintf("  %-62s %12s  target %-12s %s", label, shown, t.bound(), verdict)
		if ok && r.errors > 0 {
			line += fmt.Sprintf(" (%d failed)", r.errors)
		}
		if ok && r.detail != "" {
			line += "\n      " + r.detail
		}
		people = append(people, line)
	}
	loadEnd := bench.Load()
	b.line(bench.F("mode", "summary"), bench.F("load_start", loadStart), bench.F("load_end", loadEnd),
		bench.F("targets", list), bench.F("met", met), bench.F("missed", missed), bench.F("not_measured", notThere),
		bench.F("failures", len(b.failed)))
	b.say("\nsummary: %d targets met, %d missed, %d not measured (load %s at the start, %s at the end)", met, missed, notThere, loadStart, loadEnd)
	for _, l := range people {
		b.say("%s", l)
	}
	for _, n := range b.notes {
		b.say("  note: %s", n)
	}
	return missed == 0 && notThere == 0
}
