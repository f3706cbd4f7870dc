package actors

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/asynkron/protoactor-go/actor"
)

// mailbox is a protoactor Mailbox with the default mailbox's behaviour (system messages
// first, a suspended mailbox runs only system messages, a panic escalates the message
// being run, runtime.Gosched after each Throughput messages) and a cheaper queue: posted
// user messages are appended to a slice under a mutex, and the goroutine that runs the
// mailbox takes all of them at once, so that a message costs one short lock to post and
// none to take. Only the goroutine that runs the mailbox (one at a time, as the status
// guarantees) touches batch and next.
type mailbox struct {
	mu      sync.Mutex
	pending []any // user messages posted, oldest first
	system  []any // system messages posted, oldest first

	batch []any // user messages taken from pending, run from next on
	next  int

	users, systems atomic.Int32 // posted and not yet run
	status         atomic.Int32 // idle or running
	suspended      atomic.Bool

	invoker    actor.MessageInvoker
	dispatcher actor.Dispatcher
	process    func() // processMessages, made once
}

const (
	mailboxIdle int32 = iota
	mailboxRunning
)

// newMailbox is the System's MailboxProducer.
func newMailbox() actor.Mailbox {
	m := &mailbox{}
	m.process = m.processMessages
	return m
}

func (m *mailbox) PostUserMessage(message any) {
	// A batch posts its messages, then itself, as the default mailbox does.
	if batch, ok := message.(actor.MessageBatch); ok {
		for _, msg := range batch.GetMessages() {
			m.PostUserMessage(msg)
		}
	}
	if env, ok := message.(*actor.MessageEnvelope); ok {
		if batch, ok := env.Message.(actor.MessageBatch); ok {
			for _, msg := range batch.GetMessages() {
				m.PostUserMessage(msg)
			}
		}
	}
	m.mu.Lock()
	m.pending = append(m.pending, message)
	m.mu.Unlock()
	m.users.Add(1)
	m.schedule()
}

func (m *mailbox) PostSystemMessage(message any) {
	m.mu.Lock()
	m.system = append(m.system, message)
	m.mu.Unlock()
	m.systems.Add(1)
	m.schedule()
}

func (m *mailbox) RegisterHandlers(invoker actor.MessageInvoker, dispatcher actor.Dispatcher) {
	m.invoker, m.dispatcher = invoker, dispatcher
}

func (m *mailbox) Start() {}

func (m *mailbox) UserMessageCount() int { return int(m.users.Load()) }

func (m *mailbox) schedule() {
	if m.status.CompareAndSwap(mailboxIdle, mailboxRunning) {
		m.dispatcher.Schedule(m.process)
	}
}

func (m *mailbox) processMessages() {
	for {
		m.run()
		m.status.Store(mailboxIdle)
		// Messages posted after run saw none: run again, unless a poster scheduled it.
		if m.systems.Load() == 0 && (m.suspended.Load() || m.users.Load() == 0) {
			return
		}
		if !m.status.CompareAndSwap(mailboxIdle, mailboxRunning) {
			return
		}
	}
}

func (m *mailbox) run() {
	var msg any
	defer func() {
		if r := recover(); r != nil {
			m.invoker.EscalateFailure(r, msg)
		}
	}()
	for i, t := 0, m.dispatcher.Throughput(); ; i++ {
		if i > t {
			i = 0
			runtime.Gosched()
		}
		if m.systems.Load() > 0 {
			if msg = m.popSystem(); msg != nil {
				m.systems.Add(-1)
				switch msg.(type) {
				case *actor.SuspendMailbox:
					m.suspended.Store(true)
				case *actor.ResumeMailbox:
					m.suspended.Store(false)
				default:
					m.invoker.InvokeSystemMessage(msg)
				}
				continue
			}
		}
		if m.suspended.Load() {
			return
		}
		if msg = m.popUser(); msg == nil {
			return
		}
		m.users.Add(-1)
		m.invoker.InvokeUserMessage(msg)
	}
}

func (m *mailbox) popSystem() any {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.system) == 0 {
		return nil
	}
	msg := m.system[0]
	m.system[0] = nil
	m.system = m.system[1:]
	return msg
}

// popUser takes the next user message: from the batch, or from a new batch of all that
// was posted since the last one.
func (m *mailbox) popUser() any {
	if m.next == len(m.batch) {
		if m.users.Load() == 0 {
			// Nothing posted (a message being posted now is counted after it is queued,
			// and its poster schedules the mailbox again once this run is over).
			return nil
		}
		m.mu.Lock()
		m.batch, m.pending = m.pending, m.batch[:0]
		m.mu.Unlock()
		m.next = 0
		if len(m.batch) == 0 {
			return nil
		}
	}
	msg := m.batch[m.next]
	m.batch[m.next] = nil
	m.next++
	return msg
}
