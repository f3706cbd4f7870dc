package component

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// seenModel is the window as a plain list, oldest first: what seen must behave like.
type seenModel struct {
	max     int
	order   []key
	answers map[key][]byte
}

func (m *seenModel) add(k key, a []byte) {
	m.order = append(m.order, k)
	m.answers[k] = a
	for len(m.order) > m.max {
		delete(m.answers, m.order[0])
		m.order = m.order[1:]
	}
}

// TestSeenWindow holds the ring to the list through random begins, dones and remembers,
// across growth and the window's bound.
func TestSeenWindow(t *testing.T) {
	for _, max := range []int{1, 5, 16, 100} {
		rng := rand.New(rand.NewPCG(uint64(max), 7))
		s := newSeen(max)
		m := &seenModel{max: max, answers: map[key][]byte{}}
		for step := range 5000 {
			k := key{"s", fmt.Sprint(rng.IntN(3 * max))}
			switch rng.IntN(3) {
			case 0:
				ans, fresh, _ := s.begin(k.sender, k.id)
				want, known := m.answers[k]
				if fresh == known || string(ans) != string(want) {
					t.Fatalf("max %d step %d: begin(%v) = %q %v, want %q %v", max, step, k, ans, fresh, want, !known)
				}
				if !known {
					m.add(k, nil)
				}
			case 1:
				a := []byte(fmt.Sprint("a", step))
				s.done(k.sender, k.id, a)
				if _, ok := m.answers[k]; ok {
					m.answers[k] = a
				}
			default:
				a := []byte(fmt.Sprint("r", step))
				s.remember(k, a)
				if _, ok := m.answers[k]; ok {
					m.answers[k] = a
				} else {
					m.add(k, a)
				}
			}
			var got, want []string
			for _, l := range s.lines() {
				got = append(got, l.ID+"="+l.Answer)
			}
			for _, k := range m.order {
				if a := m.answers[k]; a != nil {
					want = append(want, k.id+"="+string(a))
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("max %d step %d: window %v, want %v", max, step, got, want)
			}
		}
	}
}
