package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is Linux's USER_HZ, the unit of the CPU times in /proc/<pid>/stat.
const clockTicks = 100

// CPUTime is the CPU time (user and system) process pid has used, from /proc/<pid>/stat.
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: fields count from the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: utime %q, stime %q", pid, f[11], f[12])
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// RSS is the resident set size of process pid in bytes (VmRSS in /proc/<pid>/status).
func RSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/status: VmRSS %q", pid, v)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
}

// BrokerPID finds the local RabbitMQ node that rabbitmqctl manages (its default node,
// the one the benchmarks make their virtual hosts on): the pid it reports, if that
// process runs on this machine. 0 when there is none here or rabbitmqctl cannot tell.
func BrokerPID(ctx context.Context) int {
	out, err := Ctl(ctx, "eval", "os:getpid().")
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.Trim(strings.TrimSpace(out), `"`))
	if err != nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(b), "beam") {
		return 0 // another machine's
	}
	return pid
}

// Load is the first three fields of /proc/loadavg (load over 1, 5 and 15 minutes).
func Load() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return strings.TrimSpace(string(b))
	}
	return strings.Join(f[:3], " ")
}

// MachineBusy is the CPU time all cores of the machine have spent busy since it started:
// every state of the first line of /proc/stat but idle and iowait.
func MachineBusy() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: first line %q", line)
	}
	var busy int64
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: %q", v)
		}
		// user nice system idle iowait irq softirq steal; guest time is counted in user.
		if i < 8 && i != 3 && i != 4 {
			busy += n
		}
	}
	return time.Duration(busy) * time.Second / clockTicks, nil
}

// Usage measures the CPU that some processes, and the whole machine, use over a span of
// time, in cores (1.0: one core busy the whole time). What cannot be read counts as -1.
type Usage struct {
	pids    []int
	start   time.Time
	cpu     []time.Duration
	machine time.Duration
}

// StartUsage starts measuring the processes pids (0 entries are skipped: -1).
func StartUsage(pids ...int) *Usage {
	u := &Usage{pids: pids, start: time.Now(), cpu: make([]time.Duration, len(pids)), machine: -1}
	if t, err := MachineBusy(); err == nil {
		u.machine = t
	}
	for i, pid := range pids {
		u.cpu[i] = -1
		if pid > 0 {
			if t, err := CPUTime(pid); err == nil {
				u.cpu[i] = t
			}
		}
	}
	return u
}

// Machine is the cores the whole machine kept busy since StartUsage.
func (u *Usage) Machine() float64 {
	wall := time.Since(u.start).Seconds()
	if u.machine < 0 || wall <= 0 {
		return -1
	}
	t, err := MachineBusy()
	if err != nil {
		return -1
	}
	return (t - u.machine).Seconds() / wall
}

// Cores is the cores each process used since StartUsage, in the order given.
func (u *Usage) Cores() []float64 {
	wall := time.Since(u.start).Seconds()
	out := make([]float64, len(u.pids))
	for i, pid := range u.pids {
		out[i] = -1
		if u.cpu[i] < 0 || wall <= 0 {
			continue
		}
		if t, err := CPUTime(pid); err == nil {
			out[i] = (t - u.cpu[i]).Seconds() / wall
		}
	}
	return out
}
