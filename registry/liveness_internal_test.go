package registry

import (
	"fmt"
	"testing"
	"time"
)

// probeRounds runs nextProbes for the ticks of d on n components (each probe answered at
// once) and returns how often each component was probed and the most probes of one tick.
func probeRounds(n, rate int, d time.Duration) (counts map[string]int, most int) {
	st := &state{cfg: config{probeEvery: time.Second, probeRate: rate}, byName: map[string]*entry{}}
	for i := range n {
		name := fmt.Sprintf("C%04d", i)
		st.order = append(st.order, name)
		st.byName[name] = &entry{name: name}
	}
	every, _ := st.probeTick()
	counts = map[string]int{}
	start := time.Now()
	for now := start; now.Before(start.Add(d)); now = now.Add(every) {
		picked := st.nextProbes(now)
		most = max(most, len(picked))
		for _, e := range picked {
			counts[e.name]++
			e.probeSent = now // sent and answered within the tick
		}
	}
	return counts, most
}

// With fewer components than the rate allows in probeEvery, each is probed once per
// probeEvery, in slices; with more, the probes keep to the rate and the round stretches
// evenly over all of them.
func TestProbesKeepToTheRate(t *testing.T) {
	counts, most := probeRounds(50, 200, 10*time.Second)
	for name, n := range counts {
		if n < 9 || n > 11 {
			t.Errorf("50 components: %s probed %d times in 10s, want 10", name, n)
		}
	}
	if len(counts) != 50 || most > 5 {
		t.Errorf("50 components: %d probed, at most %d in one tick; want 50 and 5", len(counts), most)
	}
	counts, most = probeRounds(1000, 200, 10*time.Second)
	total := 0
	for name, n := range counts {
		total += n
		if n < 1 || n > 3 {
			t.Errorf("1000 components: %s probed %d times in 10s, want 2", name, n)
		}
	}
	if len(counts) != 1000 || total > 2000 || most > 20 {
		t.Errorf("1000 components: %d probed, %d probes in all, at most %d in one tick; want 1000, 2000 and 20", len(counts), total, most)
	}
}
