package bridge

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestReadyRing holds the ring buffer to a plain slice through random pushes at both
// ends and removals anywhere, across growth and wrap-around.
func TestReadyRing(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var r ready
	var model []memMessage
	next := 0
	msg := func() memMessage {
		next++
		return memMessage{body: []byte{byte(next), byte(next >> 8)}}
	}
	for step := range 20000 {
		switch op := rng.IntN(10); {
		case op < 4:
			m := msg()
			r.push(m)
			model = append(model, m)
		case op < 5:
			ms := []memMessage{msg(), msg()}[:1+rng.IntN(2)]
			r.pushFront(ms...)
			model = append(slices.Clone(ms), model...)
		case len(model) > 0 && op < 8:
			r.remove(0)
			model = model[1:]
		case len(model) > 0:
			i := rng.IntN(len(model))
			r.remove(i)
			model = slices.Delete(model, i, i+1)
		}
		if r.len() != len(model) {
			t.Fatalf("step %d: len %d, want %d", step, r.len(), len(model))
		}
		for i, m := range model {
			if got := r.at(i); string(got.body) != string(m.body) {
				t.Fatalf("step %d: at(%d) = %v, want %v", step, i, got.body, m.body)
			}
		}
	}
}
