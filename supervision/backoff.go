package supervision

import (
	"math"
	"math/rand/v2"
	"time"
)

// Backoff is a capped exponential backoff with equal jitter.
//
// The zero value means "restart at once".
type Backoff struct {
	Initial    time.Duration // delay before the first restart (0 = restart at once)
	Max        time.Duration // cap; a Max below Initial caps at Initial
	Multiplier float64       // >= 1; 0 means 2
	Jitter     float64       // 0..1: fraction of the delay that is randomised
}

// Delay returns the delay before restart number n (n starts at 1; smaller n counts as 1).
//
// Without jitter it is min(Max, Initial*Multiplier^(n-1)). With jitter J the result d' is
// drawn uniformly from (d*(1-J), d], so it never exceeds the cap. Out-of-range fields are
// clamped the same way Policy.Validate would reject them. Safe for concurrent use.
func (b Backoff) Delay(n int) time.Duration {
	if b.Initial <= 0 {
		return 0
	}
	if n < 1 {
		n = 1
	}
	limit := max(b.Max, b.Initial)

	m := b.Multiplier
	switch {
	case m == 0:
		m = 2
	case !(m >= 1): // also catches NaN
		m = 1
	}

	d := limit
	if f := float64(b.Initial) * math.Pow(m, float64(n-1)); f < float64(limit) {
		d = time.Duration(f)
	}

	j := b.Jitter
	if !(j > 0) { // also catches NaN
		return d
	}
	j = min(j, 1)
	return d - time.Duration(rand.Float64()*j*float64(d))
}
