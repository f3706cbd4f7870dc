package bench_test

import (
	"context"
	"os"
	"slices"
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
