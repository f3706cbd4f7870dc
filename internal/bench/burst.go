package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/at-technology/atqueue/wire"
	amqp "github.com/rabbitmq/amqp091-go"
)

// Burst is the registration burst of issue 11: N components register at once
// (Parallel at a time, from one host process) at a registry while two callers, one per
// route, make calls one at a time. First on a fresh virtual host (their queues are
// created); then the host is killed, as a crash, and a new one registers the same names
// again (their queues are there, and the registry knows the names).
type Burst struct {
	VHost    *VHost // with nothing on it
	Atq      string
	Host     string
	State    string
	Broker   int
	N        int
	Parallel int
	// Wait bounds each wait on the registry between the bursts: until its liveness check
	// has seen every component of the first burst consume its queue (one never seen is
	// given atq registry's --start-grace, 30 s, before it counts as dead), then, after the
	// crash, until it has found them dead (about 2 s plus a round of liveness probes: 5 s
	// for 1,000 at the --probe-rate 200 the burst's registry runs with); so that the second
	// burst finds them all dead. A wait that times out is not an error: some are then still
	// alive.
	Wait time.Duration
}

// BurstRun is one burst.
type BurstRun struct {
	Label          string        // "fresh" or "existing"
	QueuesBefore   int           // queues on the virtual host before it
	Known          int           // components in the registry's directory before it (its inspector included)
	AliveBefore    int           // of which the registry counted alive
	Waited         time.Duration // from the end of the first burst until the registry found its components dead
	Step           HostStep      // the N registrations
	Direct, Routed Stats         // the callers' calls meanwhile
	BrokerCores    float64       // CPU during the burst, in cores (-1: unknown)
	RegistryCores  float64
	HostCores      float64
	MachineCores   float64 // the whole machine's, others' included
}

// Run makes both bursts and hands each to each as soon as it is done.
func (b Burst) Run(ctx context.Context, each func(BurstRun)) (err error) {
	// At the default rate (20 probes a second) a round over 1,000 components takes 50 s,
	// and each wait between the bursts would take that long. 200 a second is the rate
	// the burst figures were first measured with: more background work, not less.
	reg, err := StartRegistryProc(ctx, b.Atq, b.VHost.URL, b.State, "--probe-rate", "200")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, reg.Stop()) }()
	pairs, err := startPairs(ctx, b.VHost.URL)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closePairs(pairs)) }()
	m, err := reg.AwaitComponents(ctx, PairComponents, gaugeWait)
	if err != nil {
		return err
	}
	alive := m.Alive // the pairs' components and the registry's inspector
	var ended time.Time
	for _, label := range []string{"fresh", "existing"} {
		r := BurstRun{Label: label}
		if label == "existing" {
			if err := b.await(ctx, func() (bool, error) { // the crash is seen: they are dead
				m, err := reg.Memory(ctx)
				return m.Alive <= alive, err
			}); err != nil {
				return err
			}
			r.Waited = time.Since(ended)
		}
		if r.QueuesBefore, err = b.VHost.Queues(ctx); err != nil {
			return err
		}
		if m, err = reg.Memory(ctx); err != nil {
			return err
		}
		r.Known, r.AliveBefore = m.Components, m.Alive
		host, err := StartHost(ctx, b.Host, b.VHost.URL, "Burst", b.Parallel)
		if err != nil {
			return err
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() { r.Direct = MeasureUntil(ctx, "burst-"+label+"-direct-caller", stop, pairs[0].Call) })
		wg.Go(func() { r.Routed = MeasureUntil(ctx, "burst-"+label+"-routed-caller", stop, pairs[1].Call) })
		u := StartUsage(b.Broker, reg.Pid(), host.Pid())
		r.Step, err = host.Register(ctx, b.N)
		cores, machine := u.Cores(), u.Machine()
		close(stop)
		wg.Wait()
		ended = time.Now()
		if err == nil && label == "fresh" {
			// Every component has been probed (its queue depth reported) once the
			// registry has seen it consume.
			err = b.await(ctx, func() (bool, error) {
				n, err := reg.Series(ctx, `atq_queue_messages{component="Burst`)
				return n >= b.N, err
			})
		}
		host.Kill()
		if err != nil {
			return err
		}
		r.BrokerCores, r.RegistryCores, r.HostCores, r.MachineCores = cores[0], cores[1], cores[2], machine
		each(r)
	}
	return nil
}

// await polls cond until it holds or Wait passes (not an error).
func (b Burst) await(ctx context.Context, cond func() (bool, error)) error {
	deadline := time.Now().Add(b.Wait)
	for {
		ok, err := cond()
		if err != nil || ok || time.Now().After(deadline) {
			return err
		}
		if err := sleep(ctx, pollEvery); err != nil {
			return err
		}
	}
}

// DeclareQueues declares the durable send- and recieve- queues of n components named
// <prefix><4-digit index>, as the burst's components have them, with a bare amqp091-go
// client: one connection, parallel channels declaring at once. Run on a fresh virtual
// host it measures what creating them costs the broker; run again, redeclaring them.
func DeclareQueues(ctx context.Context, url, prefix string, n, parallel int) (time.Duration, error) {
	conn, err := amqp.DialConfig(url, amqp.Config{Dial: amqp.DefaultDial(5 * time.Second)})
	if err != nil {
		return 0, fmt.Errorf("bare client: %w", err)
	}
	defer conn.Close()
	chans := make([]*amqp.Channel, parallel)
	for i := range chans {
		if chans[i], err = conn.Channel(); err != nil {
			return 0, fmt.Errorf("bare client: %w", err)
		}
	}
	errs := make([]error, parallel)
	var wg sync.WaitGroup
	start := time.Now()
	for w, ch := range chans {
		wg.Go(func() {
			for i := w; i < n && ctx.Err() == nil; i += parallel {
				if errs[w] = declarePair(ch, wire.SessionID(fmt.Sprintf("%s%04d", prefix, i))); errs[w] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	return took, ctx.Err()
}
