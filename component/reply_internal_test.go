package component

import "testing"

// A pooled slot goes back to the pool empty, and an answer that comes after its call was
// released reaches no later call.
func TestPooledSlotTakesNoLateAnswer(t *testing.T) {
	cs := &callers{slots: map[string]chan any{}}
	ch := cs.open("a", 1, true)
	cs.deliver("a", "unread") // came, but its caller had given up
	cs.release("a", ch)
	cs.deliver("a", "late")
	for i := range 100 {
		next := cs.open("b", 1, true)
		select {
		case m := <-next:
			t.Fatalf("call %d found %v in its new slot", i, m)
		default:
		}
		cs.deliver("b", "mine")
		if m := <-next; m != "mine" {
			t.Fatalf("call %d got %v", i, m)
		}
		cs.release("b", next)
	}
	if len(cs.slots) != 0 {
		t.Fatalf("%d slots left", len(cs.slots))
	}
}
