package supervision_test

import (
	"math"
	"testing"
	"time"

	"github.com/at-technology/atqueue/supervision"
)

func TestBackoffDelayGrowsAndCaps(t *testing.T) {
	tests := []struct {
		name string
		b    supervision.Backoff
		n    int
		want time.Duration
	}{
		{"zero value restarts at once", supervision.Backoff{}, 3, 0},
		{"first", supervision.Backoff{Initial: 10 * time.Millisecond, Max: time.Second, Multiplier: 3}, 1, 10 * time.Millisecond},
		{"second", supervision.Backoff{Initial: 10 * time.Millisecond, Max: time.Second, Multiplier: 3}, 2, 30 * time.Millisecond},
		{"fifth", supervision.Backoff{Initial: 10 * time.Millisecond, Max: time.Second, Multiplier: 3}, 5, 810 * time.Millisecond},
		{"capped", supervision.Backoff{Initial: 10 * time.Millisecond, Max: time.Second, Multiplier: 3}, 6, time.Second},
		{"capped far out", supervision.Backoff{Initial: 10 * time.Millisecond, Max: time.Second, Multiplier: 3}, math.MaxInt32, time.Second},
		{"multiplier 0 means 2", supervision.Backoff{Initial: 10 * time.Millisecond, Max: time.Second}, 4, 80 * time.Millisecond},
		{"multiplier 1 is constant", supervision.Backoff{Initial: 10 * time.Millisecond, Max: time.Second, Multiplier: 1}, 9, 10 * time.Millisecond},
		{"n below 1 counts as 1", supervision.Backoff{Initial: 10 * time.Millisecond, Max: time.Second}, 0, 10 * time.Millisecond},
		{"max below initial caps at initial", supervision.Backoff{Initial: 50 * time.Millisecond}, 4, 50 * time.Millisecond},
		{"huge max does not overflow", supervision.Backoff{Initial: time.Hour, Max: math.MaxInt64, Multiplier: 10}, 1000, math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.b.Delay(tt.n); got != tt.want {
				t.Errorf("Delay(%d) = %v, want %v", tt.n, got, tt.want)
			}
		})
	}
}

func TestBackoffDelayNeverExceedsMax(t *testing.T) {
	b := supervision.Backoff{Initial: 7 * time.Millisecond, Max: 300 * time.Millisecond, Multiplier: 1.7, Jitter: 0.3}
	prevCeiling := time.Duration(0)
	for n := 1; n <= 40; n++ {
		ceiling := supervision.Backoff{Initial: b.Initial, Max: b.Max, Multiplier: b.Multiplier}.Delay(n)
		if ceiling < prevCeiling {
			t.Fatalf("un-jittered Delay(%d) = %v shrank from %v", n, ceiling, prevCeiling)
		}
		prevCeiling = ceiling
		if d := b.Delay(n); d > b.Max || d > ceiling {
			t.Fatalf("Delay(%d) = %v exceeds cap %v or un-jittered %v", n, d, b.Max, ceiling)
		}
	}
}

func TestBackoffJitterVaries(t *testing.T) {
	const draws = 200
	for _, j := range []float64{0.1, 0.5, 1} {
		b := supervision.Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2, Jitter: j}
		const n = 3
		ceiling := 400 * time.Millisecond
		floor := time.Duration(float64(ceiling) * (1 - j))
		seen := make(map[time.Duration]bool)
		for range draws {
			d := b.Delay(n)
			if d < floor || d > ceiling {
				t.Fatalf("jitter %v: Delay(%d) = %v, want within [%v, %v]", j, n, d, floor, ceiling)
			}
			seen[d] = true
		}
		if len(seen) < draws*9/10 {
			t.Errorf("jitter %v: %d distinct delays in %d draws, want at least %d", j, len(seen), draws, draws*9/10)
		}
	}
}

func TestBackoffWithoutJitterIsDeterministic(t *testing.T) {
	b := supervision.Backoff{Initial: 10 * time.Millisecond, Max: time.Second, Multiplier: 2}
	for n := 1; n <= 10; n++ {
		first := b.Delay(n)
		for range 50 {
			if d := b.Delay(n); d != first {
				t.Fatalf("Delay(%d) = %v, then %v", n, first, d)
			}
		}
	}
}
