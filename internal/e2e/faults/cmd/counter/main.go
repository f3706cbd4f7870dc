// Command counter is the accounting component of the fault tests: it registers as
// Counter and serves exec(id) -> id, writing one line per execution to an append-only
// journal, so that executions can be counted across SIGKILLs and restarts.
//
//	counter --journal FILE [--amqp URL] [--durable-dedupe=true] [--hold D] [--prefetch N] [--log-level L]
//
// It prints "Counter registered, session <id>" on stdout once it serves and runs until
// SIGINT or SIGTERM. The journal holds lines "exec <id>" (the method ran) and "skip <id>"
// (a request for an id that had already run; it was answered without running again).
//
// # Durable dedupe
//
// component.WithDedupeWindow remembers answers in memory by message_id: it covers a
// redelivery to the same process, not one to a restarted process, and not a caller that
// retries with a new message. Making exec idempotent across both is the component
// author's job; here the journal doubles as the record: at start every "exec" id is
// loaded, and a request for a known id is answered with the stored answer (the id itself)
// instead of running again. --durable-dedupe=false turns that off, to see what the
// runtime alone gives.
//
// Each line is one write(2) on a file opened with O_APPEND, so a SIGKILL never leaves half
// a line behind and the page cache keeps what was written; the journal is not fsynced, so
// it does not survive a crash of the machine, which the tests do not cause.
//
// --hold D makes exec wait D between recording an execution and answering, which widens
// the window in which a fault leaves an executed request unacknowledged (so that it is
// delivered again); the tests use it so that this path is exercised, not left to chance.
// --prefetch N bounds the requests it takes from its queue at once, so that the rest wait
// in the broker, where a broker restart loses them.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/internal/cli"
)

func main() {
	os.Exit(cli.Main("counter", func(ctx context.Context, args []string) error {
		return run(ctx, args, os.Stdout, os.Stderr)
	}))
}

func run(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("counter", flag.ContinueOnError)
	fs.SetOutput(errOut)
	amqpURL := cli.AMQPFlag(fs)
	queues := cli.DurableFlag(fs)
	path := fs.String("journal", "", "append-only `FILE` with one line per execution (required)")
	durable := fs.Bool("durable-dedupe", true, "answer an id found in the journal without running it again")
	hold := fs.Duration("hold", 0, "wait this long between recording an execution and answering")
	prefetch := fs.Int("prefetch", 0, "requests taken from the queue at once (0: the component default)")
	logs := cli.LogFlags(fs, slog.LevelInfo)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: counter --journal FILE [--amqp URL] [--durable-dedupe=false] [--hold D] [--prefetch N] [--log-level L] [--log-format F]\n\n"+
			"Serves Counter.exec(id) -> id over RabbitMQ until SIGINT or SIGTERM, recording each execution.\n\n")
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args, false); err != nil {
		return err
	}
	if *path == "" {
		return cli.Usagef("--journal is required")
	}
	if *hold < 0 || *prefetch < 0 {
		return cli.Usagef("--hold and --prefetch must not be negative")
	}
	log := logs.Logger(errOut)

	j, err := openJournal(*path, *durable)
	if err != nil {
		return err
	}
	defer j.close()

	sys, err := cli.Connect(ctx, amqpURL.Raw(), log, append(queues.Options(), amqpbridge.WithConnectionName("counter"))...)
	if err != nil {
		return cli.Interrupted(ctx, err)
	}
	start, cancel := context.WithTimeout(ctx, cli.StartTimeout)
	defer cancel()
	h, err := sys.Spawn(start, definition(j, *hold, *prefetch))
	if err != nil {
		return cli.Stop(sys, cli.Interrupted(ctx, cli.Registering(err)))
	}
	fmt.Fprintf(out, "%s registered, session %s (journal: %d ids known)\n", h.Name(), h.SessionID(), j.known())

	select {
	case <-ctx.Done():
		log.Info("shutting down", "reason", cli.Reason(ctx))
	case <-h.Done():
		return cli.Stop(sys, errors.New("the Counter component stopped: it failed more often than its supervisor allows"))
	}
	return cli.Stop(sys, nil)
}

// execArgs are the arguments of exec.
type execArgs struct {
	ID string `json:"id" desc:"the caller's id of this execution; no spaces"`
}

func definition(j *journal, hold time.Duration, prefetch int) *component.Component {
	opts := []component.Option{component.Describe("Records each execution of exec(id) in a journal")}
	if prefetch > 0 {
		opts = append(opts, component.WithPrefetch(prefetch))
	}
	c := component.New("Counter", opts...)
	component.Method(c, "exec", func(ctx context.Context, in execArgs) (string, error) {
		id, err := j.exec(in.ID)
		if err == nil && hold > 0 {
			t := time.NewTimer(hold)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done(): // shutting down: answer now
			}
		}
		return id, err
	}, component.Description("Records id as executed (once, with durable dedupe) and returns it"))
	return c
}

// journal is the append-only execution record. Its methods are safe for concurrent use.
type journal struct {
	mu   sync.Mutex
	f    *os.File
	done map[string]bool // ids executed, in this or an earlier run; nil without durable dedupe
}

func openJournal(path string, durable bool) (*journal, error) {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	j := &journal{f: f}
	if len(old) > 0 && old[len(old)-1] != '\n' {
		// Not expected (one write per line), but never glue a new line to a torn one.
		if _, err := f.WriteString("\n"); err != nil {
			f.Close()
			return nil, err
		}
	}
	if durable {
		j.done = map[string]bool{}
		sc := bufio.NewScanner(bytes.NewReader(old))
		for sc.Scan() {
			if id, ok := strings.CutPrefix(sc.Text(), "exec "); ok {
				j.done[id] = true
			}
		}
	}
	return j, nil
}

// exec records one execution of id and returns the answer, which is id.
func (j *journal) exec(id string) (string, error) {
	if id == "" || strings.ContainsAny(id, " \t\r\n") {
		return "", fmt.Errorf("id %q must be non-empty and have no white space", id)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.done[id] {
		if _, err := j.f.WriteString("skip " + id + "\n"); err != nil {
			return "", fmt.Errorf("journal: %w", err)
		}
		return id, nil
	}
	if _, err := j.f.WriteString("exec " + id + "\n"); err != nil {
		return "", fmt.Errorf("journal: %w", err)
	}
	if j.done != nil {
		j.done[id] = true
	}
	return id, nil
}

func (j *journal) known() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.done)
}

func (j *journal) close() {
	j.mu.Lock()
	defer j.mu.Unlock()
	_ = j.f.Close()
}
