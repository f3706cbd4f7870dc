package bench

import (
	"context"
	"os"
	"runtime"
	"slices"
	"time"
)

// Contender is one measurement of a round: N calls with Inflight of them at once.
type Contender struct {
	Mode        string
	N, Inflight int
	Call        func(context.Context) error
}

// Sample is a measurement with what it cost the machine.
type Sample struct {
	Stats
	BrokerCores float64 // CPU the broker used meanwhile, in cores; -1 when unknown
	SelfCores   float64 // CPU this process used meanwhile, in cores
	Machine     float64 // CPU the whole machine used meanwhile, in cores (others' too)
	Allocs      float64 // heap allocations of this process per call
	Bytes       float64 // heap bytes allocated by this process per call
}

// Fields are Stats.Fields and then max_ms, allocs_per_call, bytes_per_call,
// broker_cpu, bench_cpu and machine_cpu (the last three in cores; null when unknown).
func (s Sample) Fields() []Field {
	return append(s.Stats.Fields(), F("max_ms", Ms(s.Max)), F("allocs_per_call", Num(s.Allocs, 1)), F("bytes_per_call", Num(s.Bytes, 0)),
		F("broker_cpu", Cores(s.BrokerCores)), F("bench_cpu", Cores(s.SelfCores)), F("machine_cpu", Cores(s.Machine)))
}

// JSON is the sample's line.
func (s Sample) JSON() string { return Line(s.Fields()...) }

// MeasureSample runs Measure for c and records, around it, the CPU of the broker (its
// pid, 0 if unknown) and of this process, and this process's allocations.
func MeasureSample(ctx context.Context, c Contender, broker int) Sample {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	u := StartUsage(broker, os.Getpid())
	st := Measure(ctx, c.Mode, c.N, c.Inflight, c.Call)
	cores, machine := u.Cores(), u.Machine()
	runtime.ReadMemStats(&m1)
	s := Sample{Stats: st, BrokerCores: cores[0], SelfCores: cores[1], Machine: machine}
	if st.Calls > 0 {
		s.Allocs = float64(m1.Mallocs-m0.Mallocs) / float64(st.Calls)
		s.Bytes = float64(m1.TotalAlloc-m0.TotalAlloc) / float64(st.Calls)
	}
	return s
}

// Rounds measures every contender of groups once per round, for rounds rounds, the
// order within each group reversed every other round so that a change in the machine's
// load hits the contenders of a group alike. It returns, by mode, the median round: by
// p50 for contenders one call at a time, by calls/s otherwise; its Errors count the
// failed calls of all rounds and its FirstErr is the first of them. each, if not nil,
// gets every sample as it is taken. It stops early when ctx ends.
func Rounds(ctx context.Context, rounds, broker int, groups [][]Contender, each func(round int, s Sample)) map[string]Sample {
	all := map[string][]Sample{}
	for r := range rounds {
		for _, g := range groups {
			g = slices.Clone(g)
			if r%2 == 1 {
				slices.Reverse(g)
			}
			for _, c := range g {
				if ctx.Err() != nil {
					break
				}
				s := MeasureSample(ctx, c, broker)
				all[c.Mode] = append(all[c.Mode], s)
				if each != nil {
					each(r, s)
				}
			}
		}
	}
	out := map[string]Sample{}
	for _, g := range groups {
		for _, c := range g {
			if ss := all[c.Mode]; len(ss) > 0 {
				out[c.Mode] = median(ss, c.Inflight == 1)
			}
		}
	}
	return out
}

// median is the median sample by p50 (serial) or calls/s, with the errors of all.
func median(ss []Sample, serial bool) Sample {
	key := func(s Sample) float64 {
		if serial {
			return float64(s.P50)
		}
		return s.PerSecond()
	}
	sorted := slices.Clone(ss)
	slices.SortStableFunc(sorted, func(a, b Sample) int {
		ka, kb := key(a), key(b)
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	m := sorted[len(sorted)/2]
	m.Errors, m.FirstErr = 0, nil
	for _, s := range ss {
		m.Errors += s.Errors
		if m.FirstErr == nil {
			m.FirstErr = s.FirstErr
		}
	}
	return m
}

// Interleave measures the contenders, each one call at a time, in chunks of chunk calls
// taken in turn (the order reversed every other pass) until each has made its N calls.
// A contender's Sample pools its chunks: its percentiles rest on all N calls, and a
// spell of load on the machine falls on every contender alike rather than on whichever
// ran then. It stops early when ctx ends.
func Interleave(ctx context.Context, chunk, broker int, cs []Contender) []Sample {
	chunks := make([][]Sample, len(cs))
	order := make([]int, len(cs))
	for i := range order {
		order[i] = i
	}
	for pass := 0; ctx.Err() == nil; pass++ {
		more := false
		for _, i := range order {
			c := cs[i]
			n := min(chunk, c.N-pass*chunk)
			if n <= 0 || ctx.Err() != nil {
				continue
			}
			more = true
			chunks[i] = append(chunks[i], MeasureSample(ctx, Contender{Mode: c.Mode, N: n, Inflight: 1, Call: c.Call}, broker))
		}
		if !more {
			break
		}
		slices.Reverse(order)
	}
	out := make([]Sample, len(cs))
	for i, ss := range chunks {
		out[i] = pool(cs[i].Mode, ss)
	}
	return out
}

// pool is one sample of the calls of ss: their latencies together, their errors
// summed, and the CPU shares and allocations weighted by each sample's time and calls.
func pool(mode string, ss []Sample) Sample {
	p := Sample{Stats: Stats{Mode: mode}}
	var lat []time.Duration
	for _, s := range ss {
		p.Calls += s.Calls
		p.Errors += s.Errors
		p.Elapsed += s.Elapsed
		if p.FirstErr == nil {
			p.FirstErr = s.FirstErr
		}
		lat = append(lat, s.lat...)
		p.Allocs += s.Allocs * float64(s.Calls)
		p.Bytes += s.Bytes * float64(s.Calls)
	}
	p.setLatencies(lat)
	if p.Calls > 0 {
		p.Allocs, p.Bytes = p.Allocs/float64(p.Calls), p.Bytes/float64(p.Calls)
	}
	// share is the cores of one CPU figure over all of ss; -1 (unknown) if any is.
	share := func(cores func(Sample) float64) float64 {
		var cpu float64
		for _, s := range ss {
			c := cores(s)
			if c < 0 {
				return -1
			}
			cpu += c * s.Elapsed.Seconds()
		}
		if p.Elapsed <= 0 {
			return -1
		}
		return cpu / p.Elapsed.Seconds()
	}
	p.BrokerCores = share(func(s Sample) float64 { return s.BrokerCores })
	p.SelfCores = share(func(s Sample) float64 { return s.SelfCores })
	p.Machine = share(func(s Sample) float64 { return s.Machine })
	return p
}
