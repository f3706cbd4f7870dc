package bench

// The component host: a process (cmd/atqhost) that registers many components at the
// registry of a virtual host on demand, so that a benchmark can fill a registry, kill
// them all at once as a crash would, and register them again. One actor system, one
// connection; each component is a Summator named <prefix><4-digit index>.
//
//	atqhost --amqp URL --prefix NAME [--concurrency C]
//
// It prints "ready" once connected, then reads totals from stdin, one a line: for each,
// it registers the components missing up to that total, C at a time, and prints
//
//	{"mode": "host-register", "registered": 1000, "added": 990, "seconds": 2.5, "errors": 0, "first_error": ""}
//
// When stdin ends it stops its components (they unregister) and exits.

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/internal/cli"
)

// RegisterTimeout bounds the registration of one component in a burst.
const RegisterTimeout = 60 * time.Second

// HostStep is what the host reports of one total.
type HostStep struct {
	Registered int     `json:"registered"` // components registered, in all
	Added      int     `json:"added"`      // tried in this step
	Seconds    float64 `json:"seconds"`    // from the first Spawn to the last answer
	Errors     int     `json:"errors"`     // registrations that failed
	FirstError string  `json:"first_error"`
}

// Elapsed is Seconds as a duration.
func (s HostStep) Elapsed() time.Duration { return time.Duration(s.Seconds * float64(time.Second)) }

// HostMain is cmd/atqhost's main: it returns the exit status.
func HostMain() int {
	return cli.Main("atqhost", func(ctx context.Context, args []string) error {
		return runHost(ctx, args, os.Stdin, os.Stdout, os.Stderr)
	})
}

func runHost(ctx context.Context, args []string, in io.Reader, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("atqhost", flag.ContinueOnError)
	fs.SetOutput(errOut)
	amqpURL := cli.AMQPFlag(fs)
	prefix := fs.String("prefix", "Host", "component names: `NAME` and a 4-digit index")
	concurrency := fs.Int("concurrency", 64, "registrations at once")
	logs := cli.LogFlags(fs, slog.LevelWarn)
	if err := cli.Parse(fs, args, false); err != nil {
		return err
	}
	if *concurrency < 1 {
		return cli.Usagef("--concurrency must be at least 1")
	}
	log := logs.Logger(errOut)
	sys, err := cli.Connect(ctx, amqpURL.Raw(), log, amqpbridge.WithConnectionName("atqhost-"+*prefix))
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "ready")
	lines := make(chan string)
	go func() { // ends with stdin, or with the process
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	have := 0
	for {
		var line string
		var ok bool
		select {
		case line, ok = <-lines:
		case <-ctx.Done():
		}
		if !ok {
			return cli.Stop(sys, nil)
		}
		total, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil || total < 0 {
			return cli.Stop(sys, fmt.Errorf("stdin: %q is not a number of components", line))
		}
		step := HostStep{Registered: max(have, total), Added: max(total-have, 0)}
		var (
			mu  sync.Mutex
			wg  sync.WaitGroup
			sem = make(chan struct{}, *concurrency)
		)
		start := time.Now()
		for i := have; i < total; i++ {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				rctx, cancel := context.WithTimeout(ctx, RegisterTimeout)
				defer cancel()
				if _, err := sys.Spawn(rctx, Summator(fmt.Sprintf("%s%04d", *prefix, i))); err != nil {
					mu.Lock()
					if step.Errors++; step.FirstError == "" {
						step.FirstError = err.Error()
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		step.Seconds = time.Since(start).Seconds()
		have = step.Registered
		b, _ := json.Marshal(step)
		fmt.Fprintf(out, `{"mode": "host-register", %s`+"\n", strings.TrimPrefix(string(b), "{"))
	}
}

// Host is a running atqhost. Kill it, or Stop it.
type Host struct{ proc }

// StartHost runs the host program at path on the virtual host at url.
func StartHost(ctx context.Context, path, url, prefix string, concurrency int) (*Host, error) {
	h := &Host{}
	err := h.start(ctx, "atqhost", path, []string{"--amqp", url, "--prefix", prefix, "--concurrency", strconv.Itoa(concurrency)}, nil,
		func(line string) bool { return line == "ready" })
	if err != nil {
		return nil, err
	}
	return h, nil
}

// Register asks the host to have total components registered and waits for its report.
func (h *Host) Register(ctx context.Context, total int) (HostStep, error) {
	if _, err := fmt.Fprintln(h.stdin, total); err != nil {
		return HostStep{}, fmt.Errorf("%w: atqhost: %w", ErrProcess, err)
	}
	line, err := h.next(ctx)
	if err != nil {
		return HostStep{}, err
	}
	var s HostStep
	if err := json.Unmarshal([]byte(line), &s); err != nil {
		return HostStep{}, fmt.Errorf("%w: atqhost said %q", ErrProcess, line)
	}
	return s, nil
}
