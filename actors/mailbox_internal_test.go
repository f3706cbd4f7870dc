package actors

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// recorder is a MessageInvoker that records what the mailbox runs; a user message
// "block" waits until release is closed, and "panic" panics.
type recorder struct {
	mu        sync.Mutex
	ran       []any
	escalated []any
	release   chan struct{}
	blocked   chan struct{} // closed when "block" starts
	ranAll    chan struct{} // closed once want messages ran
	want      int
}

func newRecorder(want int) *recorder {
	return &recorder{release: make(chan struct{}), blocked: make(chan struct{}), ranAll: make(chan struct{}), want: want}
}

func (r *recorder) record(m any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ran = append(r.ran, m)
	if len(r.ran) == r.want {
		close(r.ranAll)
	}
}

func (r *recorder) InvokeSystemMessage(m any) { r.record(m) }

func (r *recorder) InvokeUserMessage(m any) {
	switch m {
	case "block":
		close(r.blocked)
		<-r.release
	case "panic":
		r.record(m)
		panic("boom")
	}
	r.record(m)
}

func (r *recorder) EscalateFailure(reason, m any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.escalated = append(r.escalated, fmt.Sprint(reason, ":", m))
}

func (r *recorder) waitAll(t *testing.T) []any {
	t.Helper()
	select {
	case <-r.ranAll:
	case <-time.After(5 * time.Second):
		r.mu.Lock()
		defer r.mu.Unlock()
		t.Fatalf("ran %d of %d messages: %v", len(r.ran), r.want, r.ran)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ran)
}

func started(t *testing.T, throughput int, inv actor.MessageInvoker) (*mailbox, *pool) {
	t.Helper()
	p := newPool(throughput, time.Second)
	t.Cleanup(p.close)
	m := newMailbox().(*mailbox)
	m.RegisterHandlers(inv, p)
	m.Start()
	return m, p
}

// TestMailboxKeepsEachSendersOrder: messages posted from several goroutines all run once,
// each goroutine's in the order it posted them, also with a small throughput.
func TestMailboxKeepsEachSendersOrder(t *testing.T) {
	const senders, each = 8, 500
	r := newRecorder(senders * each)
	m, _ := started(t, 3, r)
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m.PostUserMessage([2]int{s, i})
			}
		}()
	}
	wg.Wait()
	ran := r.waitAll(t)
	next := make([]int, senders)
	for _, msg := range ran {
		si := msg.([2]int)
		if si[1] != next[si[0]] {
			t.Fatalf("sender %d: message %d ran before %d", si[0], si[1], next[si[0]])
		}
		next[si[0]]++
	}
	if n := m.UserMessageCount(); n != 0 {
		t.Fatalf("UserMessageCount = %d after all ran", n)
	}
}

// TestMailboxRunsSystemMessagesFirst: what waits when a system message comes runs after it.
func TestMailboxRunsSystemMessagesFirst(t *testing.T) {
	r := newRecorder(4)
	m, _ := started(t, 300, r)
	m.PostUserMessage("block")
	<-r.blocked
	m.PostUserMessage("u2")
	m.PostUserMessage("u3")
	m.PostSystemMessage("s1")
	close(r.release)
	if got, want := r.waitAll(t), []any{"block", "s1", "u2", "u3"}; !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
}

// TestMailboxSuspends: a suspended mailbox runs only system messages until resumed.
func TestMailboxSuspends(t *testing.T) {
	r := newRecorder(3)
	m, _ := started(t, 300, r)
	m.PostSystemMessage(&actor.SuspendMailbox{})
	m.PostUserMessage("u1")
	m.PostSystemMessage("s1")
	waitFor(t, "the system message runs", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.ran) == 1
	})
	r.mu.Lock()
	early := slices.Clone(r.ran)
	r.mu.Unlock()
	if !slices.Equal(early, []any{"s1"}) {
		t.Fatalf("while suspended ran %v, want [s1]", early)
	}
	m.PostSystemMessage(&actor.ResumeMailbox{})
	m.PostUserMessage("u2")
	if got, want := r.waitAll(t), []any{"s1", "u1", "u2"}; !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
}

// TestMailboxEscalatesAPanic: the message that panicked is escalated with the reason, and
// the mailbox runs what comes next.
func TestMailboxEscalatesAPanic(t *testing.T) {
	r := newRecorder(3)
	m, _ := started(t, 300, r)
	m.PostUserMessage("u1")
	m.PostUserMessage("panic")
	waitFor(t, "the panic is escalated", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.escalated) == 1
	})
	m.PostUserMessage("u2")
	if got, want := r.waitAll(t), []any{"u1", "panic", "u2"}; !slices.Equal(got, want) {
		t.Fatalf("ran %v, want %v", got, want)
	}
	if got := r.escalated[0]; got != "boom:panic" {
		t.Fatalf("escalated %v", got)
	}
}
