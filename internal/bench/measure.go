package bench

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
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
	FirstErr error // the first failure, for the log
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
func (s Stats) JSON() string {
	return fmt.Sprintf(`{"mode": %s, "calls": %d, "calls_per_s": %s, "p50_ms": %s, "p99_ms": %s, "errors": %d}`,
		strconv.Quote(s.Mode), s.Calls, round(s.PerSecond(), 1), round(ms(s.P50), 3), round(ms(s.P99), 3), s.Errors)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func round(x float64, digits int) string {
	p := math.Pow10(digits)
	return strconv.FormatFloat(math.Round(x*p)/p, 'f', -1, 64)
}

// Measure makes n calls with inflight of them running at once (1: one at a time) and
// returns their figures. It stops starting calls when ctx ends. call must be safe for
// concurrent use when inflight > 1.
func Measure(ctx context.Context, mode string, n, inflight int, call func(context.Context) error) Stats {
	if inflight < 1 {
		inflight = 1
	}
	inflight = min(inflight, max(n, 1))
	lat := make([]time.Duration, n)
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
	done := lat[:s.Calls]
	slices.Sort(done)
	s.P50, s.P99 = percentile(done, 0.50), percentile(done, 0.99)
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
