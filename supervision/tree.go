package supervision

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Tree is a supervisor actor that spawns and supervises children under one Policy.
//
// Its methods are safe for concurrent use. They block until the tree actor answers, so call
// them from outside actors, or at least never from a child's Receive (the tree waits on the
// child there).
type Tree struct {
	root     *actor.RootContext
	pid      *actor.PID
	strategy *strategy
	done     chan struct{} // closed when the tree actor has stopped, after all its children

	mu       sync.Mutex
	stopping bool // Stop was called; guards the order of requests and the stop request
}

// NewTree validates p and spawns the tree actor under root with the given name. notify is
// passed to Policy.Strategy.
//
// If a child's failure is escalated, the tree actor fails to its own supervisor (root's
// default: restart). A restarted tree stops its children and spawns them again from the
// same props and names, so their PIDs stay valid.
func NewTree(root *actor.RootContext, name string, p Policy, notify func(Event)) (*Tree, error) {
	t, props, err := newTree(root, p, notify)
	if err != nil {
		return nil, err
	}
	pid, err := root.SpawnNamed(props, name)
	if err != nil {
		return nil, fmt.Errorf("supervision: spawn tree %q: %w", name, err)
	}
	t.pid = pid
	return t, nil
}

// NewTree spawns a tree as a child of t, governed by t's policy like any child, whose own
// children are governed by p: a branch of a supervision tree. It is stopped with t (or on
// its own with Stop, or t.StopChild(ctx, sub.PID())).
func (t *Tree) NewTree(ctx context.Context, name string, p Policy, notify func(Event)) (*Tree, error) {
	sub, props, err := newTree(t.root, p, notify)
	if err != nil {
		return nil, err
	}
	if sub.pid, err = t.Spawn(ctx, name, props); err != nil {
		return nil, err
	}
	return sub, nil
}

func newTree(root *actor.RootContext, p Policy, notify func(Event)) (*Tree, *actor.Props, error) {
	if err := p.Validate(); err != nil {
		return nil, nil, err
	}
	t := &Tree{root: root, strategy: newStrategy(p, notify), done: make(chan struct{})}
	a := &treeActor{tree: t}
	// The producer returns the same instance so that a restart keeps the child list.
	return t, actor.PropsFromProducer(func() actor.Actor { return a }, actor.WithSupervisor(t.strategy)), nil
}

// PID is the tree actor's PID; children's PIDs are "<tree id>/<name>".
func (t *Tree) PID() *actor.PID { return t.pid }

// Spawn spawns props as a child of the tree named name and returns its PID.
//
// It fails with an error wrapping ErrStopped once Stop was called, or with the spawn error
// (for example actor.ErrNameExists). If ctx ends first, ctx's error is returned and the child
// may still have been spawned; it is then stopped with the tree.
func (t *Tree) Spawn(ctx context.Context, name string, props *actor.Props) (*actor.PID, error) {
	return t.spawn(ctx, name, props, Child{})
}

// Child says how a tree treats one child.
type Child struct {
	// Policy, when set, governs the child instead of the tree's policy (one-for-one trees
	// only: an all-for-one tree governs its children together, with its own policy). It
	// is validated.
	Policy *Policy
	// Leave, when positive, makes the tree ask the child to stop itself (a *Leave
	// message) when the tree stops, and wait that long for it before stopping it: a child
	// that has work to finish (answers to send) stops in its own time.
	Leave time.Duration
}

// Leave asks a child to stop itself (see Child.Leave); it must call Stop on itself once
// it is done.
type Leave struct{}

// SpawnChild is Spawn with options for the child.
func (t *Tree) SpawnChild(ctx context.Context, name string, props *actor.Props, opts Child) (*actor.PID, error) {
	if opts.Policy != nil {
		if err := opts.Policy.Validate(); err != nil {
			return nil, err
		}
	}
	return t.spawn(ctx, name, props, opts)
}

func (t *Tree) spawn(ctx context.Context, name string, props *actor.Props, opts Child) (*actor.PID, error) {
	reply := make(chan spawnResult, 1)
	if err := t.send(spawnRequest{name: name, props: props, opts: opts, reply: reply}); err != nil {
		return nil, fmt.Errorf("supervision: spawn %q: %w", name, err)
	}
	select {
	case r := <-reply:
		return r.pid, r.err
	case <-t.done:
		select {
		case r := <-reply:
			return r.pid, r.err
		default:
			return nil, fmt.Errorf("supervision: spawn %q: %w", name, ErrStopped)
		}
	case <-ctx.Done():
		return nil, fmt.Errorf("supervision: spawn %q: %w", name, ctx.Err())
	}
}

// StopChild stops the child pid and waits until it has stopped (its Stopped has run) or ctx
// ends. A pid that is not a live child of the tree is a no-op. After Stop was called it
// waits for the tree to stop.
func (t *Tree) StopChild(ctx context.Context, pid *actor.PID) error {
	stopped := make(chan struct{})
	if err := t.send(stopChildRequest{pid: pid, stopped: stopped}); err != nil {
		stopped = t.done
	}
	select {
	case <-stopped:
		return nil
	case <-t.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("supervision: stop child %s: %w", pid, ctx.Err())
	}
}

// Stop stops the children one at a time in reverse spawn order, waiting for each, then the
// tree actor, and waits for all of it or for ctx to end. Pending delayed restarts are
// cancelled. Stop is idempotent: later calls wait for the same stop and return nil once it
// is done; a call whose ctx ended may be repeated.
func (t *Tree) Stop(ctx context.Context) error {
	t.mu.Lock()
	if !t.stopping {
		t.stopping = true
		if !t.isDone() {
			t.root.Send(t.pid, stopRequest{})
		}
	}
	t.mu.Unlock()

	select {
	case <-t.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("supervision: stop tree %s: %w", t.pid, ctx.Err())
	}
}

// send posts msg to the tree actor unless Stop was called. Holding mu orders every request
// before the stop request, so the tree answers all of them.
func (t *Tree) send(msg any) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopping || t.isDone() {
		return ErrStopped
	}
	t.root.Send(t.pid, msg)
	return nil
}

func (t *Tree) isDone() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

type spawnRequest struct {
	name  string
	props *actor.Props
	opts  Child
	reply chan<- spawnResult // buffered 1; the tree actor sends once
}

type spawnResult struct {
	pid *actor.PID
	err error
}

type stopChildRequest struct {
	pid     *actor.PID
	stopped chan struct{} // closed by the tree actor when the child terminated
}

type stopRequest struct{}

// leaveTimeout stops a child that did not stop itself in time after a Leave.
type leaveTimeout struct{ pid *actor.PID }

// treeActor is the tree's actor. Its fields are touched only from its mailbox goroutine.
type treeActor struct {
	tree       *Tree
	children   []*child // in spawn order
	stopping   bool     // stopRequest or Stopping received: spawn nothing, stop children last to first
	restarting bool     // between Restarting and the next Started: keep children for respawn
}

type child struct {
	pid           *actor.PID
	name          string
	props         *actor.Props
	opts          Child
	leaveAsked    bool
	stopRequested bool
	waiters       []chan struct{} // closed when the child has terminated
}

func (a *treeActor) Receive(c actor.Context) {
	switch m := c.Message().(type) {
	case *actor.Restarting:
		a.restarting = true
	case *actor.Started:
		if a.restarting {
			a.restarting = false
			a.respawn(c)
		}
	case spawnRequest:
		m.reply <- a.spawn(c, m.name, m.props, m.opts)
	case leaveTimeout:
		if ch := a.find(m.pid); ch != nil && !ch.stopRequested {
			ch.stopRequested = true
			c.Stop(ch.pid)
		}
	case stopChildRequest:
		a.stopChild(c, m)
	case stopRequest:
		a.stopping = true
		a.tree.strategy.close()
		a.stopNext(c)
	case *actor.Stopping:
		// Also reached when the tree's own supervisor stops it; protoactor then stops all
		// children itself, and no new child may be spawned.
		a.stopping = true
		a.tree.strategy.close()
		for _, ch := range a.children {
			ch.stopRequested = true
		}
	case *actor.Terminated:
		a.terminated(c, m.Who)
	case *actor.Stopped:
		a.tree.strategy.close()
		close(a.tree.done)
	}
}

func (a *treeActor) spawn(c actor.Context, name string, props *actor.Props, opts Child) spawnResult {
	if a.stopping {
		return spawnResult{err: fmt.Errorf("supervision: spawn %q: %w", name, ErrStopped)}
	}
	pid, err := spawnNamed(c, props, name)
	if err != nil {
		return spawnResult{err: fmt.Errorf("supervision: spawn %q: %w", name, err)}
	}
	if opts.Policy != nil {
		a.tree.strategy.setPolicy(pid, *opts.Policy)
	}
	a.children = append(a.children, &child{pid: pid, name: name, props: props, opts: opts})
	return spawnResult{pid: pid}
}

// spawnNamed turns protoactor's panic on unusable props (for example props with a guardian)
// into an error, so that a caller's mistake does not fail the tree.
func spawnNamed(c actor.Context, props *actor.Props, name string) (pid *actor.PID, err error) {
	defer func() {
		if r := recover(); r != nil {
			pid, err = nil, fmt.Errorf("spawn panicked: %v", r)
		}
	}()
	return c.SpawnNamed(props, name)
}

func (a *treeActor) stopChild(c actor.Context, m stopChildRequest) {
	ch := a.find(m.pid)
	if ch == nil {
		close(m.stopped)
		return
	}
	ch.waiters = append(ch.waiters, m.stopped)
	if !ch.stopRequested {
		ch.stopRequested = true
		c.Stop(ch.pid)
	}
}

// stopNext stops the most recently spawned child, or the tree once there are none. It is
// called again from terminated, so children stop one at a time.
func (a *treeActor) stopNext(c actor.Context) {
	if len(a.children) == 0 {
		c.Stop(c.Self())
		return
	}
	last := a.children[len(a.children)-1]
	switch {
	case last.stopRequested || last.leaveAsked:
	case last.opts.Leave > 0:
		last.leaveAsked = true
		c.Send(last.pid, &Leave{})
		self, sys, pid := c.Self(), c.ActorSystem(), last.pid
		time.AfterFunc(last.opts.Leave, func() { sys.Root.Send(self, leaveTimeout{pid: pid}) })
	default:
		last.stopRequested = true
		c.Stop(last.pid)
	}
}

func (a *treeActor) terminated(c actor.Context, who *actor.PID) {
	ch := a.find(who)
	if ch == nil {
		return
	}
	a.tree.strategy.forget(who)
	for _, w := range ch.waiters {
		close(w)
	}
	ch.waiters = nil
	if a.restarting && !ch.stopRequested && !a.stopping {
		return // respawned on Started
	}
	a.children = removeChild(a.children, ch)
	if a.stopping && !a.restarting {
		a.stopNext(c)
	}
}

// respawn spawns again, in order, the children that a restart of the tree stopped.
func (a *treeActor) respawn(c actor.Context) {
	old := a.children
	a.children = nil
	for _, ch := range old {
		pid, err := spawnNamed(c, ch.props, ch.name)
		if err != nil {
			c.Logger().Error("supervision: respawn failed", "child", ch.name, "error", err)
			continue
		}
		ch.pid = pid
		if ch.opts.Policy != nil {
			a.tree.strategy.setPolicy(pid, *ch.opts.Policy)
		}
		a.children = append(a.children, ch)
	}
	if a.stopping {
		a.stopNext(c)
	}
}

func (a *treeActor) find(pid *actor.PID) *child {
	for _, ch := range a.children {
		if ch.pid.Equal(pid) {
			return ch
		}
	}
	return nil
}

func removeChild(children []*child, ch *child) []*child {
	for i, x := range children {
		if x == ch {
			return append(children[:i], children[i+1:]...)
		}
	}
	return children
}
