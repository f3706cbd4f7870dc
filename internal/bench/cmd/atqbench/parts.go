package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/at-technology/atqueue/internal/bench"
)

// round prints a round's sample on stderr with --verbose.
func (b *benchRun) round(r int, s bench.Sample) {
	if b.verbose {
		b.say("round %d: %s", r+1, s.JSON())
	}
}

// warm makes Warmup calls on each contender, not counted; a failure stops the part.
func warm(ctx context.Context, calls map[string]func(context.Context) error) error {
	for name, call := range calls {
		if s := bench.Measure(ctx, "warmup", bench.Warmup, 1, call); s.Errors > 0 {
			return fmt.Errorf("%s warm-up: %w", name, s.FirstErr)
		}
	}
	return nil
}

// perCall is the mean time of one call, in µs: the latency one at a time, the inverse
// of the throughput with many in flight.
func perCall(s bench.Sample) float64 {
	if s.Calls == 0 {
		return 0
	}
	return us(s.Elapsed) / float64(s.Calls)
}

func (b *benchRun) inproc(ctx context.Context) (err error) {
	b.say("atqbench: inproc: %d rounds of %d calls one at a time and %d with %d in flight; a bare protoactor future and Call over the embedded transport",
		b.rounds, b.inprocSerial, b.inprocN, b.inflight)
	p, err := bench.StartInProcess(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, p.Close()) }()
	if err := warm(ctx, map[string]func(context.Context) error{"future": p.Future, "Call": p.Call}); err != nil {
		return err
	}
	conc := "concurrent" + strconv.Itoa(b.inflight)
	groups := [][]bench.Contender{
		{{Mode: "inproc-future-serial", N: b.inprocSerial, Inflight: 1, Call: p.Future}, {Mode: "inproc-call-serial", N: b.inprocSerial, Inflight: 1, Call: p.Call}},
		{{Mode: "inproc-future-" + conc, N: b.inprocN, Inflight: b.inflight, Call: p.Future}, {Mode: "inproc-call-" + conc, N: b.inprocN, Inflight: b.inflight, Call: p.Call}},
	}
	med := bench.Rounds(ctx, b.rounds, 0, groups, b.round)
	for _, g := range groups {
		for _, c := range g {
			b.sample(med[c.Mode], bench.F("us_per_call", bench.Num(perCall(med[c.Mode]), 2)))
		}
	}
	fs, cs := med["inproc-future-serial"], med["inproc-call-serial"]
	fc, cc := med["inproc-future-"+conc], med["inproc-call-"+conc]
	b.results.set("inproc_concurrent_calls_per_s", cc.PerSecond(), cc.Errors,
		fmt.Sprintf("%d in flight; %.1f allocs, %.0f B per call; CPU: this process %s, machine %s", b.inflight, cc.Allocs, cc.Bytes, cores(cc.SelfCores), cores(cc.Machine)))
	b.results.set("inproc_serial_us_per_call", perCall(cs), cs.Errors,
		fmt.Sprintf("p50 %.1f µs; %.1f allocs, %.0f B per call", us(cs.P50), cs.Allocs, cs.Bytes))
	b.results.set("inproc_concurrent_vs_future", cc.PerSecond()/fc.PerSecond(), cc.Errors+fc.Errors,
		fmt.Sprintf("%.0f / %.0f calls/s; one at a time %.2f (%.1f / %.1f µs per call)",
			cc.PerSecond(), fc.PerSecond(), perCall(fs)/perCall(cs), perCall(cs), perCall(fs)))
	return ctx.Err()
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (b *benchRun) rabbit(ctx context.Context) (err error) {
	b.say("atqbench: rabbit: %d rounds of %d calls one at a time and %d with %d in flight; relays with and without confirms, Go direct, routed, and to a Python-style peer",
		b.rounds, b.serialN, b.concurrentN, b.inflight)
	vs, drop, err := b.vhosts(ctx, "relay-confirms", "relay", "direct", "routed", "python")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, drop()) }()
	relayC, err := bench.Start(ctx, vs[0].URL)
	if err != nil {
		return fmt.Errorf("relay with confirms: %w", err)
	}
	defer func() { err = errors.Join(err, relayC.Close()) }()
	relay, err := bench.Start(ctx, vs[1].URL, bench.WithoutConfirms())
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	defer func() { err = errors.Join(err, relay.Close()) }()
	pairs := map[bench.Route]*bench.Pair{}
	defer func() {
		for _, p := range pairs {
			err = errors.Join(err, p.Close())
		}
	}()
	for i, r := range []bench.Route{bench.Direct, bench.Routed, bench.Python} {
		p, err := bench.StartPair(ctx, vs[2+i].URL, r, bench.WithOwnRegistry(), bench.WithLog(b.log))
		if err != nil {
			return err
		}
		pairs[r] = p
	}
	calls := map[string]func(context.Context) error{"relay-confirms": relayC.Call, "relay": relay.Call,
		"atq-direct": pairs[bench.Direct].Call, "atq-routed": pairs[bench.Routed].Call, "atq-python": pairs[bench.Python].Call}
	if err := warm(ctx, calls); err != nil {
		return err
	}
	order := []string{"relay-confirms", "relay", "atq-direct", "atq-routed", "atq-python"}
	conc := "concurrent" + strconv.Itoa(b.inflight)
	var serial, concurrent []bench.Contender
	for _, name := range order {
		serial = append(serial, bench.Contender{Mode: name + "-serial", N: b.serialN, Inflight: 1, Call: calls[name]})
		concurrent = append(concurrent, bench.Contender{Mode: name + "-" + conc, N: b.concurrentN, Inflight: b.inflight, Call: calls[name]})
	}
	med := bench.Rounds(ctx, b.rounds, b.broker, [][]bench.Contender{serial, concurrent}, b.round)
	for _, c := range append(serial, concurrent...) {
		b.sample(med[c.Mode])
	}
	rs, rc := med["relay-serial"], med["relay-"+conc]
	for _, r := range []bench.Route{bench.Direct, bench.Routed, bench.Python} {
		s, c := med["atq-"+string(r)+"-serial"], med["atq-"+string(r)+"-"+conc]
		b.results.set(string(r)+"_concurrent_vs_relay", c.PerSecond()/rc.PerSecond(), c.Errors+rc.Errors,
			fmt.Sprintf("%.0f / %.0f calls/s; CPU: broker %s, this process %s, machine %s (relay: %s, %s, %s)", c.PerSecond(), rc.PerSecond(),
				cores(c.BrokerCores), cores(c.SelfCores), cores(c.Machine), cores(rc.BrokerCores), cores(rc.SelfCores), cores(rc.Machine)))
		b.results.set(string(r)+"_serial_p50_vs_relay", float64(s.P50)/float64(rs.P50), s.Errors+rs.Errors,
			fmt.Sprintf("%.3f / %.3f ms", ms(s.P50), ms(rs.P50)))
	}
	cs, cc := med["relay-confirms-serial"], med["relay-confirms-"+conc]
	b.notes = append(b.notes,
		fmt.Sprintf("bare relay without confirms: %.0f calls/s with %d in flight, p50 %.3f ms one at a time; with confirms: %.0f calls/s, p50 %.3f ms",
			rc.PerSecond(), b.inflight, ms(rs.P50), cc.PerSecond(), ms(cs.P50)))
	for _, r := range []bench.Route{bench.Direct, bench.Routed, bench.Python} {
		s, c := med["atq-"+string(r)+"-serial"], med["atq-"+string(r)+"-"+conc]
		b.notes = append(b.notes, fmt.Sprintf("%s against the relay with confirms: %.2f× with %d in flight, p50 %.2f× one at a time; %.0f allocs per call in this process (registry, both components and the caller)",
			r, c.PerSecond()/cc.PerSecond(), b.inflight, float64(s.P50)/float64(cs.P50), c.Allocs))
	}
	return ctx.Err()
}

// cores shows a CPU share in cores.
func cores(c float64) string {
	if c < 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.2f cores", c)
}

func (b *benchRun) scalePart(ctx context.Context) (err error) {
	b.say("atqbench: scale: registered components %v (%d at once) at an atq registry process; %d serial calls per route and level",
		b.scale, b.parallel, b.scaleCalls)
	vs, drop, err := b.vhosts(ctx, "scale")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, drop()) }()
	s := bench.Scale{URL: vs[0].URL, Atq: b.atq, Host: b.host, State: filepath.Join(b.tmp, "scale-state.json"),
		Broker: b.broker, Levels: b.scale, Calls: b.scaleCalls, Parallel: b.parallel}
	var levels []bench.ScaleLevel
	err = s.Run(ctx, func(l bench.ScaleLevel) {
		levels = append(levels, l)
		b.line(bench.F("mode", "scale-register"), bench.F("registered", l.Registered), bench.F("added", l.Step.Added),
			bench.F("seconds", bench.Num(l.Step.Seconds, 3)), bench.F("errors", l.Step.Errors), bench.F("parallel", b.parallel),
			bench.F("broker_cpu", bench.Cores(l.BrokerCores)), bench.F("registry_cpu", bench.Cores(l.RegistryCores)),
			bench.F("machine_cpu", bench.Cores(l.MachineCores)))
		if l.Step.Errors > 0 {
			b.failed = append(b.failed, fmt.Errorf("scale: %d of %d registrations failed; the first: %s", l.Step.Errors, l.Step.Added, l.Step.FirstError))
		}
		b.line(bench.F("mode", "scale-registry-memory"), bench.F("registered", l.Registered),
			bench.F("registry_components", l.Memory.Components), bench.F("registry_alive", l.Memory.Alive),
			bench.F("rss_bytes", l.Memory.RSS), bench.F("heap_alloc_bytes", l.Memory.HeapAlloc), bench.F("heap_live_bytes", l.Memory.HeapLive))
		reg := bench.F("registered", l.Registered)
		b.sample(l.Direct, reg)
		b.sample(l.Routed, reg)
		b.sample(l.Relay, reg)
	})
	if len(levels) >= 2 {
		first, last := levels[0], levels[len(levels)-1]
		n := float64(last.Registered - first.Registered)
		per := func(a, b int64) float64 { return float64(b-a) / n }
		b.line(bench.F("mode", "scale-memory-per-component"), bench.F("from", first.Registered), bench.F("to", last.Registered),
			bench.F("rss_bytes", bench.Num(per(first.Memory.RSS, last.Memory.RSS), 0)),
			bench.F("heap_alloc_bytes", bench.Num(per(first.Memory.HeapAlloc, last.Memory.HeapAlloc), 0)),
			bench.F("heap_live_bytes", bench.Num(per(first.Memory.HeapLive, last.Memory.HeapLive), 0)))
		for _, r := range []struct {
			name        string
			first, last bench.Sample
		}{{"direct", first.Direct, last.Direct}, {"routed", first.Routed, last.Routed}} {
			errs := r.first.Errors + r.last.Errors
			b.results.set("scale_"+r.name+"_p50_ratio", float64(r.last.P50)/float64(r.first.P50), errs,
				fmt.Sprintf("%.3f ms at %d / %.3f ms at %d", ms(r.last.P50), last.Registered, ms(r.first.P50), first.Registered))
			b.results.set("scale_"+r.name+"_p99_ratio", float64(r.last.P99)/float64(r.first.P99), errs,
				fmt.Sprintf("%.3f ms at %d / %.3f ms at %d", ms(r.last.P99), last.Registered, ms(r.first.P99), first.Registered))
		}
		b.notes = append(b.notes, fmt.Sprintf("scale reference, the bare relay without confirms on the same virtual host: p50 %.3f → %.3f ms (%.2f×), p99 %.3f → %.3f ms (%.2f×) from %d to %d components",
			ms(first.Relay.P50), ms(last.Relay.P50), float64(last.Relay.P50)/float64(first.Relay.P50),
			ms(first.Relay.P99), ms(last.Relay.P99), float64(last.Relay.P99)/float64(first.Relay.P99), first.Registered, last.Registered))
		b.notes = append(b.notes, fmt.Sprintf("registry (atq registry process) from %d to %d components: RSS %.1f → %.1f MiB, live heap ≈ %.1f → %.1f MiB; per component %.1f KiB RSS, %.1f KiB live heap; %d registrations took %.2f s",
			first.Registered, last.Registered, mib(first.Memory.RSS), mib(last.Memory.RSS), mib(first.Memory.HeapLive), mib(last.Memory.HeapLive),
			per(first.Memory.RSS, last.Memory.RSS)/1024, per(first.Memory.HeapLive, last.Memory.HeapLive)/1024, last.Step.Added, last.Step.Seconds))
	}
	return err
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func (b *benchRun) burstPart(ctx context.Context) (err error) {
	b.say("atqbench: burst: %d components register %d at a time at an atq registry process, fresh then again; as floors, %d-way bare queue declares and the same registrations by a bare client",
		b.burst, b.parallel, b.floor)
	vs, drop, err := b.vhosts(ctx, "burst", "floor", "protocol")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, drop()) }()
	var floor [2]time.Duration
	for i, mode := range []string{"burst-floor-create", "burst-floor-redeclare"} {
		if floor[i], err = bench.DeclareQueues(ctx, vs[1].URL, "Burst", b.burst, b.floor); err != nil {
			return fmt.Errorf("%s: %w", mode, err)
		}
		b.line(bench.F("mode", mode), bench.F("queues", 2*b.burst), bench.F("parallel", b.floor), bench.F("seconds", bench.Num(floor[i].Seconds(), 3)))
	}
	var bare [2]time.Duration
	for i, mode := range []string{"burst-floor-registrations-fresh", "burst-floor-registrations-existing"} {
		if bare[i], err = bench.BareRegistrations(ctx, vs[2].URL, "Burst", b.burst, b.parallel); err != nil {
			return fmt.Errorf("%s: %w", mode, err)
		}
		b.line(bench.F("mode", mode), bench.F("components", b.burst), bench.F("parallel", b.parallel), bench.F("seconds", bench.Num(bare[i].Seconds(), 3)))
	}
	bu := bench.Burst{VHost: vs[0], Atq: b.atq, Host: b.host, State: filepath.Join(b.tmp, "burst-state.json"),
		Broker: b.broker, N: b.burst, Parallel: b.parallel, Wait: 45 * time.Second}
	return bu.Run(ctx, func(r bench.BurstRun) {
		b.line(bench.F("mode", "burst-"+r.Label), bench.F("components", b.burst), bench.F("parallel", b.parallel),
			bench.F("seconds", bench.Num(r.Step.Seconds, 3)), bench.F("errors", r.Step.Errors),
			bench.F("queues_before", r.QueuesBefore), bench.F("registry_components_before", r.Known), bench.F("registry_alive_before", r.AliveBefore),
			bench.F("waited_for_dead_s", bench.Num(r.Waited.Seconds(), 3)),
			bench.F("broker_cpu", bench.Cores(r.BrokerCores)), bench.F("registry_cpu", bench.Cores(r.RegistryCores)),
			bench.F("host_cpu", bench.Cores(r.HostCores)), bench.F("machine_cpu", bench.Cores(r.MachineCores)))
		if r.Step.Errors > 0 {
			b.failed = append(b.failed, fmt.Errorf("burst %s: %d of %d registrations failed; the first: %s", r.Label, r.Step.Errors, r.Step.Added, r.Step.FirstError))
		}
		for _, s := range []bench.Stats{r.Direct, r.Routed} {
			b.line(append(s.Fields(), bench.F("max_ms", bench.Ms(s.Max)))...)
			b.calls(s)
		}
		f, fr := floor[0], bare[0]
		if r.Label == "existing" {
			f, fr = floor[1], bare[1]
		}
		b.results.set("burst_"+r.Label+"_seconds", r.Step.Seconds, r.Step.Errors,
			fmt.Sprintf("%d components, %d at once; a bare client's %d declares %.2f s, its %d registrations %.2f s (%.2f×); CPU: broker %s, registry %s, host %s, machine %s",
				b.burst, b.parallel, 2*b.burst, f.Seconds(), b.burst, fr.Seconds(), r.Step.Seconds/fr.Seconds(),
				cores(r.BrokerCores), cores(r.RegistryCores), cores(r.HostCores), cores(r.MachineCores)))
		for _, s := range []struct {
			route string
			st    bench.Stats
		}{{"routed", r.Routed}, {"direct", r.Direct}} {
			b.results.set("burst_"+r.Label+"_"+s.route+"_max_ms", ms(s.st.Max), s.st.Errors,
				fmt.Sprintf("%d calls, p50 %.2f ms, p99 %.2f ms", s.st.Calls, ms(s.st.P50), ms(s.st.P99)))
		}
	})
}
