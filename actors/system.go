package actors

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/at-technology/atqueue/bridge"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/registry"
	"github.com/at-technology/atqueue/supervision"
)

// ErrShutdown is returned by a System that has been shut down.
var ErrShutdown = errors.New("actor system shut down")

// Option configures a System.
type Option func(*config)

type config struct {
	transport bridge.Transport
	log       *slog.Logger
	policy    supervision.Policy
}

// WithTransport sets the transport (default: a new bridge.Embedded). The System closes it
// at Shutdown.
func WithTransport(t bridge.Transport) Option { return func(c *config) { c.transport = t } }

// WithLogger sets the logger for the runtime, the registry and components (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithInfraPolicy sets the supervision policy of the bridge and registry actors.
func WithInfraPolicy(p supervision.Policy) Option { return func(c *config) { c.policy = p } }

// System is one process's actor runtime.
type System struct {
	cfg       config
	sys       *actor.ActorSystem
	infra     *supervision.Tree
	bridgePID *actor.PID
	pool      *pool

	mu         sync.Mutex
	registry   *actor.PID
	components []*component.Handle
	down       bool

	once    sync.Once
	downErr error
}

// New starts an actor system with a supervised bridge actor over the transport.
func New(opts ...Option) (*System, error) {
	cfg := config{log: slog.New(slog.NewTextHandler(io.Discard, nil)), policy: supervision.DefaultPolicy()}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.transport == nil {
		cfg.transport = bridge.NewEmbedded()
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	s := &System{cfg: cfg, pool: newPool(300, time.Second), sys: actor.NewActorSystem(
		actor.WithLoggerFactory(func(*actor.ActorSystem) *slog.Logger { return quiet }),
		actor.WithDeadLetterThrottleInterval(10*time.Millisecond),
	)}
	var err error
	s.infra, err = supervision.NewTree(s.sys.Root, "atq-infra", cfg.policy, func(ev supervision.Event) {
		cfg.log.Warn("infrastructure actor failed", "actor", ev.Child.Id, "reason", ev.Reason, "directive", ev.Directive.String())
	})
	if err != nil {
		s.sys.Shutdown()
		return nil, err
	}
	s.bridgePID, err = s.infra.Spawn(context.Background(), "bridge", bridge.Props(cfg.transport).Configure(actor.WithDispatcher(s.pool)))
	if err != nil {
		_ = s.infra.Stop(context.Background())
		s.sys.Shutdown()
		return nil, err
	}
	return s, nil
}

// Root is the actor system's root context.
func (s *System) Root() *actor.RootContext { return s.sys.Root }

// Bridge is the bridge actor's address.
func (s *System) Bridge() *actor.PID { return s.bridgePID }

// Transport is the transport the bridge carries messages over.
func (s *System) Transport() bridge.Transport { return s.cfg.transport }

// Runtime is what component.Start needs.
func (s *System) Runtime() component.Runtime {
	return component.Runtime{Root: s.sys.Root, Bridge: s.bridgePID, Log: s.cfg.log, Dispatcher: s.pool}
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
	opts = append([]registry.Option{registry.WithLogger(s.cfg.log)}, opts...)
	pid, err := s.infra.Spawn(ctx, "registry", registry.Props(s.bridgePID, opts...).Configure(actor.WithDispatcher(s.pool)))
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

// Spawn registers and starts a component; it is stopped at Shutdown.
func (s *System) Spawn(ctx context.Context, def *component.Component) (*component.Handle, error) {
	s.mu.Lock()
	if s.down {
		s.mu.Unlock()
		return nil, ErrShutdown
	}
	s.mu.Unlock()
	h, err := component.Start(ctx, s.Runtime(), def)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		_ = h.Stop(context.Background())
		return nil, ErrShutdown
	}
	s.components = append(s.components, h)
	return h, nil
}

// Shutdown stops every component (latest first), then the registry and the bridge, closes
// the transport and finally the actor system. It waits for each step within ctx, is
// idempotent, and later calls return the first call's result.
func (s *System) Shutdown(ctx context.Context) error {
	s.once.Do(func() {
		s.mu.Lock()
		s.down = true
		comps := slices.Clone(s.components)
		s.mu.Unlock()
		var errs []error
		for i := len(comps) - 1; i >= 0; i-- {
			if err := comps[i].Stop(ctx); err != nil {
				errs = append(errs, fmt.Errorf("stopping %s: %w", comps[i].Name(), err))
			}
		}
		if err := s.infra.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping the registry and bridge: %w", err))
		}
		if err := s.cfg.transport.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing the transport: %w", err))
		}
		s.sys.Shutdown()
		s.pool.close()
		s.downErr = errors.Join(errs...)
	})
	return s.downErr
}
