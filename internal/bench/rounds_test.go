package bench_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/internal/bench"
)

// Rounds reverses the order within each group every other round and keeps the median
// round: by p50 one at a time, by calls/s with many in flight.
func TestRounds(t *testing.T) {
	var order []string
	var serialDelay = []time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond}
	round := 0
	contender := func(mode string, inflight int) bench.Contender {
		return bench.Contender{Mode: mode, N: 2, Inflight: inflight, Call: func(context.Context) error {
			if inflight == 1 {
				time.Sleep(serialDelay[round])
			}
			return nil
		}}
	}
	groups := [][]bench.Contender{{contender("a", 1), contender("b", 1)}, {contender("c", 2)}}
	var p50s []time.Duration
	med := bench.Rounds(context.Background(), 3, 0, groups, func(r int, s bench.Sample) {
		order = append(order, s.Mode)
		if s.Mode == "a" {
			p50s = append(p50s, s.P50)
		}
		if s.Mode == "c" {
			round++
		}
	})
	if want := []string{"a", "b", "c", "b", "a", "c", "a", "b", "c"}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	sorted := slices.Clone(p50s)
	slices.Sort(sorted)
	if len(med) != 3 || med["a"].P50 != sorted[1] || med["c"].Calls != 2 {
		t.Errorf("median of a: %v, want %v (rounds %v); %+v", med["a"].P50, sorted[1], p50s, med)
	}
}

func TestProcessFigures(t *testing.T) {
	rss, err := bench.RSS(os.Getpid())
	if err != nil || rss < 1<<20 {
		t.Errorf("RSS = %d, %v", rss, err)
	}
	if _, err := bench.CPUTime(os.Getpid()); err != nil {
		t.Error(err)
	}
	if _, err := bench.MachineBusy(); err != nil {
		t.Error(err)
	}
	u := bench.StartUsage(os.Getpid(), 0)
	if c := u.Cores(); len(c) != 2 || c[0] < 0 || c[1] != -1 {
		t.Errorf("cores %v: want this process's ≥ 0 and -1 for pid 0", c)
	}
}

// Interleave takes the contenders in turns of chunk calls, the order reversed every
// other pass, and pools each one's calls: its p99 and maximum come from all of them.
func TestInterleave(t *testing.T) {
	var order []string
	slowest := map[string]time.Duration{"a": 4 * time.Millisecond, "b": 2 * time.Millisecond}
	calls := map[string]int{}
	contender := func(mode string, n int) bench.Contender {
		return bench.Contender{Mode: mode, N: n, Inflight: 1, Call: func(context.Context) error {
			order = append(order, mode)
			calls[mode]++
			if calls[mode] == 5 { // one slow call, in the second turn
				time.Sleep(slowest[mode])
			}
			return nil
		}}
	}
	ss := bench.Interleave(context.Background(), 3, 0, []bench.Contender{contender("a", 7), contender("b", 5)})
	// Turns of 3: a a a, b b b, then reversed: b b, a a a, then a.
	if got, want := strings.Join(order, ""), "aaabbbbbaaaa"; got != want {
		t.Errorf("calls in the order %s, want %s", got, want)
	}
	if len(ss) != 2 {
		t.Fatalf("%d samples, want 2", len(ss))
	}
	for i, want := range []struct {
		mode  string
		calls int
	}{{"a", 7}, {"b", 5}} {
		s := ss[i]
		if s.Mode != want.mode || s.Calls != want.calls || s.Errors != 0 {
			t.Errorf("sample %d: %s with %d calls, %d errors; want %s with %d", i, s.Mode, s.Calls, s.Errors, want.mode, want.calls)
		}
		if s.Max < slowest[want.mode] || s.P99 != s.Max || s.P50 >= slowest[want.mode] {
			t.Errorf("%s: p50 %v, p99 %v, max %v; want the slow call (≥ %v) as p99 and max only", s.Mode, s.P50, s.P99, s.Max, slowest[want.mode])
		}
		// No broker pid: its share is unknown in every chunk, so in the pool; this
		// process's is known in each.
		if s.BrokerCores != -1 || s.SelfCores < 0 || s.Machine < 0 {
			t.Errorf("%s: broker %v, self %v, machine %v cores; want -1, ≥ 0, ≥ 0", s.Mode, s.BrokerCores, s.SelfCores, s.Machine)
		}
	}
}
