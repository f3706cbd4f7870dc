package bridge

// ready is the queue of an in-process queue's messages not yet delivered: a ring buffer,
// so that taking the head and appending at the tail, which is all a queue does while its
// consumers keep up, allocate nothing once it has grown. Requeued messages go back at
// the head. Its owner (memQueue) holds the lock.
type ready struct {
	buf  []memMessage // len(buf) is 0 or a power of two
	head int
	n    int
}

func (r *ready) len() int { return r.n }

// at is the i-th message from the head.
func (r *ready) at(i int) memMessage { return r.buf[(r.head+i)&(len(r.buf)-1)] }

func (r *ready) grow() {
	if r.n < len(r.buf) {
		return
	}
	buf := make([]memMessage, max(8, 2*len(r.buf)))
	for i := range r.n {
		buf[i] = r.at(i)
	}
	r.buf, r.head = buf, 0
}

// push appends m at the tail.
func (r *ready) push(m memMessage) {
	r.grow()
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = m
	r.n++
}

// pushFront puts ms before the head, in their order.
func (r *ready) pushFront(ms ...memMessage) {
	for i := len(ms) - 1; i >= 0; i-- {
		r.grow()
		r.head = (r.head - 1) & (len(r.buf) - 1)
		r.buf[r.head] = ms[i]
		r.n++
	}
}

// remove drops the i-th message from the head; the head, by far the common case, in
// constant time.
func (r *ready) remove(i int) {
	mask := len(r.buf) - 1
	if i == 0 {
		r.buf[r.head] = memMessage{}
		r.head = (r.head + 1) & mask
		r.n--
		return
	}
	for j := i; j < r.n-1; j++ {
		r.buf[(r.head+j)&mask] = r.buf[(r.head+j+1)&mask]
	}
	r.buf[(r.head+r.n-1)&mask] = memMessage{}
	r.n--
}
