package bridge

import (
	"testing"

	"github.com/at-technology/atqueue/wire"
)

// forwardAcker is an Acker that forwards, or refuses to while busy.
type forwardAcker struct {
	busy      bool
	forwarded []string
	acked     int
}

func (a *forwardAcker) Ack() error       { a.acked++; return nil }
func (a *forwardAcker) Nack(bool) error  { return nil }
func (a *forwardAcker) CanForward() bool { return true }
func (a *forwardAcker) Forward(queue string, _ []byte, _ wire.Headers) error {
	if a.busy {
		return ErrNotForwardable
	}
	a.forwarded = append(a.forwarded, queue)
	return nil
}

// A forward the transport refuses goes back to the bridge, its delivery unsettled, to be
// published the ordinary way; one it accepts settles the delivery.
func TestSettlerHandsBackARefusedForward(t *testing.T) {
	refused := make(chan *Publish, 1)
	s := newSettler(func(p *Publish) { refused <- p })
	defer s.close()

	a := &forwardAcker{busy: true}
	d := NewDelivery("send-x", []byte("m"), nil, false, a)
	p := &Publish{Queue: "recieve-y", Body: d.Body, Settle: d, Forward: true}
	s.push(settleOp{d: d, fwd: p})
	if got := <-refused; got != p {
		t.Fatalf("refused %v, want the forward's Publish", got)
	}
	if !d.CanForward() || len(a.forwarded) != 0 {
		t.Fatalf("a refused forward settled its delivery (forwarded %v)", a.forwarded)
	}

	a.busy = false
	done := make(chan struct{})
	s.push(settleOp{d: d, fwd: p})
	s.push(settleOp{run: func() { close(done) }})
	<-done
	if len(a.forwarded) != 1 || a.forwarded[0] != "recieve-y" || d.CanForward() {
		t.Fatalf("forwarded %v (can forward after: %v), want once to recieve-y and settled", a.forwarded, d.CanForward())
	}
	if err := d.Ack(); err != nil || a.acked != 0 {
		t.Fatalf("a forwarded delivery was acknowledged again (%d, %v)", a.acked, err)
	}
}
