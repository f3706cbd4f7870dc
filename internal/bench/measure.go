package bench

import (
	"context"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Stats are the figures of one measured run of calls.
type Stats struct {
	Mode     string
	Calls    int // calls made (fewer than asked if ctx ended)
	Errors   int
	Elapsed  time.Duration
	P50, P99 time.Duration
	Max      time.Duration   // the slowest call
	FirstErr error           // the first failure, for the log
	lat      []time.Duration // every call's latency, sorted: for pooling runs
}

// PerSecond is the throughput over the whole run.
func (s Stats) PerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Calls) / s.Elapsed.Seconds()
}

// JSON is the one-line report, keys and separators as in
//
//	{"mode": "serial", "calls": 1000, "calls_per_s": 812.3, "p50_ms": 1.1, "p99_ms": 2.5, "errors": 0}
func (s Stats) JSON() string { return Line(s.Fields()...) }

// Fields are the keys of JSON in their order, for lines that add more after them.
func (s Stats) Fields() []Field {
	return []Field{{"mode", s.Mode}, {"calls", s.Calls}, {"calls_per_s", Num(s.PerSecond(), 1)},
		{"p50_ms", Ms(s.P50)}, {"p99_ms", Ms(s.P99)}, {"errors", s.Errors}}
}

// Measure makes n calls with inflight of them running at once (1: one at a time) and
// returns their figures. It stops starting calls when ctx ends. call must be safe for
// concurrent use when inflight > 1.
func Measure(ctx context.Context, mode string, n, inflight int, call func(context.Context) error) Stats {
	if inflight < 1 {
		inflight = 1
	}
	inflight = min(inflight, max(n, 1))
	lat := make([]time.Duration, n) // before the clock starts: no allocation per call
	var (
		next     atomic.Int64
		errs     atomic.Int64
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	start := time.Now()
	for range inflight {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				err := call(ctx)
				lat[i] = time.Since(t0)
				if err != nil {
					errs.Add(1)
					errOnce.Do(func() { firstErr = err })
				}
			}
		})
	}
	wg.Wait()
	s := Stats{Mode: mode, Elapsed: time.Since(start), Errors: int(errs.Load()), FirstErr: firstErr}
	s.Calls = min(int(next.Load()), n) // every claimed index below n ran
	s.setLatencies(lat[:s.Calls])
	return s
}

// setLatencies sorts lat and takes the percentiles and the maximum from it.
func (s *Stats) setLatencies(lat []time.Duration) {
	slices.Sort(lat)
	s.lat = lat
	s.P50, s.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	if len(lat) > 0 {
		s.Max = lat[len(lat)-1]
	}
}

// MeasureUntil makes calls one at a time until stop is closed or ctx ends, and returns
// their figures: the latency a caller sees while something else happens.
func MeasureUntil(ctx context.Context, mode string, stop <-chan struct{}, call func(context.Context) error) Stats {
	var lat []time.Duration
	s := Stats{Mode: mode}
	start := time.Now()
	for ctx.Err() == nil {
		select {
		case <-stop:
		default:
			t0 := time.Now()
			err := call(ctx)
			lat = append(lat, time.Since(t0))
			if err != nil {
				s.Errors++
				if s.FirstErr == nil {
					s.FirstErr = err
				}
			}
			continue
		}
		break
	}
	s.Elapsed, s.Calls = time.Since(start), len(lat)
	s.setLatencies(lat)
	return s
}

// percentile is the nearest-rank percentile of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}
