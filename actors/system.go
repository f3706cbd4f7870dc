package actors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/metrics"
	"github.com/at-technology/atqueue/registry"
	"github.com/at-technology/atqueue/supervision"
)

// ErrShutdown is returned by a System that has been shut down.
var ErrShutdown = errors.New("actor system shut down")

// Option configures a System.
type Option func(*config)

type config struct {
	broker     bridge.Broker
	ownBroker  bool // made by New: closed at Shutdown
	log        *slog.Logger
	policy     supervision.Policy
	middleware []actor.ReceiverMiddleware
	connect    time.Duration
	metrics    *metrics.Metrics
	noDirect   bool
	checkRate  float64
}

// WithBroker sets what the bridge connects to: RabbitMQ (bridge/amqp.NewBroker) or an
// in-process broker (bridge.NewEmbedded, which several systems may share). Default: a
// new in-process broker of the System's own.
func WithBroker(b bridge.Broker) Option { return func(c *config) { c.broker = b } }

// WithLogger sets the logger for the runtime, the registry and components (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithInfraPolicy sets the supervision policy of the bridge and registry actors.
func WithInfraPolicy(p supervision.Policy) Option { return func(c *config) { c.policy = p } }

// WithReceiverMiddleware wraps the Receive of every actor the System runs (the bridge,
// the registry, components): tracing, metrics, or failure injection in tests.
func WithReceiverMiddleware(mw ...actor.ReceiverMiddleware) Option {
	return func(c *config) { c.middleware = append(c.middleware, mw...) }
}

// WithMetrics counts what the System's actors do in m: the bridge's reconnections, the
// registry's routing (StartRegistry), the components' calls and panics, and the
// supervisors' restarts and stops. Serve m.Handler() at /metrics to expose them.
func WithMetrics(m *metrics.Metrics) Option { return func(c *config) { c.metrics = m } }

// WithDirectCalls sets whether the process's components call Go peers directly, on
// the peer's queue with the answer on the caller's (two queue hops instead of four
// through the registry), which is the default. Calls to and from Python components
// always take the registry's route; see docs/call-path.md.
func WithDirectCalls(on bool) Option { return func(c *config) { c.noDirect = !on } }

// WithCheckRate bounds the registry checks (component.WithRegistryCheck) that the
// process's components make together, per second (default component.DefaultCheckRate,
// 20): up to rate × interval components (300 at the default 15s), each checks at its own
// interval; with more, each checks less often. A component that finds the registry has
// forgotten it has the others checked at once. 0 or less: the default.
func WithCheckRate(perSecond float64) Option { return func(c *config) { c.checkRate = perSecond } }

// WithConnectTimeout bounds the bridge's first connection in New (default 10s).
func WithConnectTimeout(d time.Duration) Option { return func(c *config) { c.connect = d } }

// System is one process's actor runtime. Its actors form one supervision tree:
//
//	atq                 the root: restarts a branch that fails (one-for-one)
//	├── infra           the bridge, the check pacer and the registry (WithInfraPolicy)
//	│   ├── bridge
//	│   ├── checks      paces the components' registry checks (WithCheckRate)
//	│   └── registry
//	└── components      one-for-one; each component under the policy it was defined with
//	    ├── <component>
//	    └── <group>     all-for-one: its components restart together (SpawnGroup)
type System struct {
	cfg        config
	sys        *actor.ActorSystem
	root       *supervision.Tree
	infra      *supervision.Tree
	components *supervision.Tree
	bridgePID  *actor.PID
	checksPID  *actor.PID
	pool       *pool

	mu       sync.Mutex
	registry *actor.PID
	down     bool

	once    sync.Once
	downErr error
}

// New starts an actor system and its bridge, and waits until the bridge has connected to
// its broker (within WithConnectTimeout): an unreachable broker fails New.
func New(opts ...Option) (*System, error) {
	cfg := config{log: slog.New(slog.NewTextHandler(io.Discard, nil)), policy: supervision.DefaultPolicy(), connect: 10 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.broker == nil {
		cfg.broker, cfg.ownBroker = bridge.NewEmbedded(), true
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := &System{cfg: cfg, pool: newPool(300, time.Second), sys: actor.NewActorSystem(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet }),
		actor.WithDeadLetterThrottleInterval(10*time.Millisecond),
	)}
	ctx := context.Background()
	err := s.build(ctx)
	if err == nil {
		err = s.connected(cfg.connect)
	}
	if err != nil {
		s.stopAll(ctx)
		return nil, err
	}
	return s, nil
}

// build spawns the tree and the bridge.
func (s *System) build(ctx context.Context) error {
	var err error
	s.root, err = supervision.NewTree(s.sys.Root, "atq", supervision.DefaultPolicy(), s.notify("branch"))
	if err != nil {
		return err
	}
	if s.infra, err = s.root.NewTree(ctx, "infra", s.cfg.policy, s.notify("infrastructure actor")); err != nil {
		return err
	}
	if s.components, err = s.root.NewTree(ctx, "components", supervision.DefaultPolicy(), s.notifyComponent); err != nil {
		return err
	}
	s.bridgePID, err = s.infra.Spawn(ctx, "bridge", s.props(bridge.Props(s.cfg.broker, bridge.WithLogger(s.cfg.log), bridge.WithMetrics(s.cfg.metrics))))
	if err != nil {
		return err
	}
	s.checksPID, err = s.infra.Spawn(ctx, "checks", s.props(component.CheckPacerProps(s.cfg.checkRate)))
	return err
}

// props configures props with the System's dispatcher, mailbox and middleware.
func (s *System) props(p *actor.Props) *actor.Props {
	p = p.Configure(actor.WithDispatcher(s.pool), actor.WithMailbox(newMailbox))
	if len(s.cfg.middleware) > 0 {
		p = p.Configure(actor.WithReceiverMiddleware(s.cfg.middleware...))
	}
	return p
}

func (s *System) notify(what string) func(supervision.Event) {
	return func(ev supervision.Event) {
		s.count(componentName(ev.Child.Id), ev)
		s.cfg.log.Warn(what+" failed", "actor", ev.Child.Id, "reason", ev.Reason, "directive", ev.Directive.String(), "restarts", ev.Restarts)
	}
}

// count counts a supervisor's decision in the metrics.
func (s *System) count(actor string, ev supervision.Event) {
	switch ev.Directive {
	case supervision.Restart:
		s.cfg.metrics.Restart(actor)
	case supervision.Stop:
		s.cfg.metrics.Stop(actor)
	}
}

func (s *System) notifyComponent(ev supervision.Event) {
	name := componentName(ev.Child.Id)
	s.count(name, ev)
	switch ev.Directive {
	case supervision.Restart:
		s.cfg.log.Warn("component restarts", "component", name, "reason", ev.Reason, "restarts", ev.Restarts, "delay", ev.Delay)
	case supervision.Stop:
		s.cfg.log.Error("component failed too often and stops", "component", name, "reason", ev.Reason, "restarts", ev.Restarts)
	}
}

// componentName reads a component's name out of its actor's id
// ("atq/components/<name>-<n>", or under a group).
func componentName(id string) string {
	if i := strings.LastIndexByte(id, '/'); i >= 0 {
		id = id[i+1:]
	}
	if i := strings.LastIndexByte(id, '-'); i > 0 {
		id = id[:i]
	}
	return id
}

// connected waits for the bridge's first connection.
func (s *System) connected(timeout time.Duration) error {
	res, err := s.sys.Root.RequestFuture(s.bridgePID, &bridge.Connected{}, timeout).Result()
	if err != nil {
		return fmt.Errorf("the bridge did not connect within %v: %w", timeout, err)
	}
	if l, ok := res.(*bridge.Link); ok && l.Err != nil {
		return l.Err
	}
	return nil
}

// Root is the actor system's root context.
func (s *System) Root() *actor.RootContext { return s.sys.Root }

// Bridge is the bridge actor's address.
func (s *System) Bridge() *actor.PID { return s.bridgePID }

// Broker is what the bridge connects to.
func (s *System) Broker() bridge.Broker { return s.cfg.broker }

// Runtime is what component.Start needs to start a component under the components branch.
func (s *System) Runtime() component.Runtime {
	return s.runtime(s.components)
}

func (s *System) runtime(parent *supervision.Tree) component.Runtime {
	return component.Runtime{Root: s.sys.Root, Bridge: s.bridgePID, Parent: parent, Log: s.cfg.log,
		Dispatcher: s.pool, Mailbox: newMailbox, Middleware: s.cfg.middleware, Metrics: s.cfg.metrics, NoDirect: s.cfg.noDirect, Checks: s.checksPID}
}

// StartRegistry spawns the supervised registry actor and waits until it serves its
// queue. A registry that finds another registry serving the virtual host fails with
// registry.ErrAnotherRegistry; with registry.WithStandby it waits instead, until the other
// one stops (then StartRegistry returns) or ctx ends. Without a deadline on ctx, the wait
// for a registry that is not standing by is bounded by 10s.
func (s *System) StartRegistry(ctx context.Context, opts ...registry.Option) (*actor.PID, error) {
	s.mu.Lock()
	if s.down {
		s.mu.Unlock()
		return nil, ErrShutdown
	}
	if s.registry != nil {
		s.mu.Unlock()
		return nil, errors.New("the registry is already running in this system")
	}
	s.mu.Unlock()
	opts = append([]registry.Option{registry.WithLogger(s.cfg.log), registry.WithMetrics(s.cfg.metrics)}, opts...)
	pid, err := s.infra.Spawn(ctx, "registry", s.props(registry.Props(s.bridgePID, opts...)))
	if err != nil {
		return nil, err
	}
	if err := s.awaitRegistry(ctx, pid); err != nil {
		_ = s.infra.StopChild(context.Background(), pid)
		return nil, fmt.Errorf("registry did not start: %w", err)
	}
	s.mu.Lock()
	s.registry = pid
	s.mu.Unlock()
	return pid, nil
}

// awaitRegistry waits until the registry at pid serves: its first answer within ctx's
// deadline (10s without one), then, while it stands by, until it serves or ctx ends. The
// answers come to a waiter actor of its own rather than to futures, so that nothing
// answers a future that gave up.
func (s *System) awaitRegistry(ctx context.Context, pid *actor.PID) error {
	answers := make(chan *registry.Ready, 2)
	waiter := s.sys.Root.Spawn(actor.PropsFromFunc(func(c actor.Context) {
		if r, ok := c.Message().(*registry.Ready); ok {
			select {
			case answers <- r:
			default:
			}
		}
	}))
	defer s.sys.Root.Stop(waiter)
	first := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		first = time.Until(dl)
	}
	timer := time.NewTimer(first)
	defer timer.Stop()
	s.sys.Root.RequestWithCustomSender(pid, &registry.Ready{}, waiter)
	for {
		select {
		case r := <-answers:
			switch {
			case r.Err != nil:
				return r.Err
			case !r.Standby:
				return nil
			}
			timer.Stop()
			s.sys.Root.RequestWithCustomSender(pid, &registry.AwaitActive{}, waiter)
		case <-timer.C:
			return fmt.Errorf("no answer within %v: %w", first, context.DeadlineExceeded)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// StopRegistry stops the registry actor and waits; StartRegistry may then start a new one
// (with a state file, it resumes the saved directory).
func (s *System) StopRegistry(ctx context.Context) error {
	s.mu.Lock()
	pid := s.registry
	s.registry = nil
	s.mu.Unlock()
	if pid == nil {
		return nil
	}
	return s.infra.StopChild(ctx, pid)
}

// Spawn registers and starts a component under the components branch, with the policy
// it was defined with; it is stopped at Shutdown.
func (s *System) Spawn(ctx context.Context, def *component.Component) (*component.Handle, error) {
	if s.isDown() {
		return nil, ErrShutdown
	}
	h, err := component.Start(ctx, s.runtime(s.components), def)
	if errors.Is(err, supervision.ErrStopped) {
		return nil, ErrShutdown
	}
	return h, err
}

// Group is a set of components that restart together: when one fails, its supervisor
// (all-for-one) restarts all of them, and past its restart intensity stops all of them.
type Group struct {
	s    *System
	tree *supervision.Tree
}

// NewGroup makes an all-for-one group under the components branch, governed by p (whose
// AllForOne is set).
func (s *System) NewGroup(ctx context.Context, name string, p supervision.Policy) (*Group, error) {
	if s.isDown() {
		return nil, ErrShutdown
	}
	p.AllForOne = true
	t, err := s.components.NewTree(ctx, name, p, s.notifyComponent)
	if err != nil {
		return nil, err
	}
	return &Group{s: s, tree: t}, nil
}

// Spawn registers and starts a component in the group; the group's policy governs it.
func (g *Group) Spawn(ctx context.Context, def *component.Component) (*component.Handle, error) {
	if g.s.isDown() {
		return nil, ErrShutdown
	}
	return component.Start(ctx, g.s.runtime(g.tree), def)
}

func (s *System) isDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down
}

// Shutdown stops every component (latest first, each leaving the registry), then the
// registry and the bridge (which closes its connection), and finally the actor system. It
// waits for each step within ctx, is idempotent, and later calls return the first call's
// result.
func (s *System) Shutdown(ctx context.Context) error {
	s.once.Do(func() {
		s.mu.Lock()
		s.down = true
		s.mu.Unlock()
		s.downErr = s.stopAll(ctx)
	})
	return s.downErr
}

func (s *System) stopAll(ctx context.Context) error {
	var errs []error
	if s.components != nil {
		if err := s.components.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping the components: %w", err))
		}
	}
	if s.infra != nil {
		if err := s.infra.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping the registry and bridge: %w", err))
		}
	}
	if s.root != nil {
		if err := s.root.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping the supervision tree: %w", err))
		}
	}
	if c, ok := s.cfg.broker.(io.Closer); ok && s.cfg.ownBroker {
		if err := c.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing the broker: %w", err))
		}
	}
	s.sys.Shutdown()
	s.pool.close()
	return errors.Join(errs...)
}
