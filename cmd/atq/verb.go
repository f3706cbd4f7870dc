package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"github.com/at-technology/atqueue/actors"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/internal/cli"
	"github.com/at-technology/atqueue/wire"
)

// Exit statuses of the verbs (ls, inspect, call, ping, configurate); scripts rely on
// them, and `atq help` lists them.
const (
	exitFailed       = 1   // the remote end failed: the method raised, the component is not alive or crashed
	exitUsage        = 2   // the command line is wrong
	exitUnknown      = 3   // no such component, or no such method
	exitInvalidArgs  = 4   // the component refused the arguments (its schema)
	exitNoAnswer     = 5   // no answer in time, or no connection: the broker or the registry is unreachable
	exitUnauthorized = 6   // the method needs an auth token the component accepts
	exitInterrupted  = 130 // SIGINT or SIGTERM
)

const exitCodesUsage = `exit status of ls, inspect, call, ping and configurate:
  0    done
  1    the remote end failed: the method raised an error, the component crashed, is
       registered but not alive, or refused the configuration
  2    the command line is wrong (an unknown option, a missing NAME, a key=value without
       "=", --args or the configuration file not a JSON object)
  3    no such component, or no such method
  4    the component refused the arguments (its JSON Schema); the failing field is named
  5    no answer within --timeout, or no connection: RabbitMQ unreachable, or no registry
       on that virtual host
  6    not authorized: the method needs an auth token (--token) the component accepts
  130  interrupted by SIGINT or SIGTERM
`

// verbOptions are the options every verb takes; some verbs add their own.
type verbOptions struct {
	conn    connection
	json    bool
	timeout time.Duration
	debug   bool
	log     *cli.LogOptions
	token   string // call, configurate
	args    string // call
}

// defaultVerbTimeout bounds each step of a verb: connecting, registering, the request.
const defaultVerbTimeout = 10 * time.Second

const verbCommonUsage = `  --json                         print one JSON document on stdout (an error too:
                                 {"errors": [...]}, as the wire carries them)
  --timeout DURATION             bound on connecting, on registering and on the request
                                 (default 10s)
  --debug                        log what the connection does, on stderr (--log-level debug)
  --log-format text|json         text for people (default), json for log collectors
  --log-level LEVEL              debug, info, warn (default) or error
  -h, --help                     show this text

The verb runs as a short-lived component named atq-<verb>-<random>, which registers with
the registry and unregisters on exit.

`

func (o *verbOptions) flags(fs *flag.FlagSet, withToken, withArgs bool) {
	o.conn.flags(fs)
	fs.BoolVar(&o.json, "json", false, "")
	fs.DurationVar(&o.timeout, "timeout", defaultVerbTimeout, "")
	fs.BoolVar(&o.debug, "debug", false, "")
	o.log = cli.LogFlags(fs, slog.LevelWarn)
	if withToken {
		fs.StringVar(&o.token, "token", "", "")
	}
	if withArgs {
		fs.StringVar(&o.args, "args", "", "")
	}
}

// verb is one of the operator's commands.
type verb struct {
	name  string
	usage string // the text of -h, without the common parts
	// positional checks the positional arguments (a usage error for a mistake) before
	// anything connects; it may keep what it read for run.
	positional func(o *verbOptions, args []string, dashdash bool) error
	withToken  bool
	withArgs   bool
	// endless verbs run until SIGINT or SIGTERM (their ctx has no --timeout), which ends
	// them with status 0.
	endless bool
	// run does the work through h within ctx (which ends at --timeout) and writes to out.
	run func(ctx context.Context, h *component.Handle, o *verbOptions, args []string, out io.Writer) error
}

// runVerb parses the command line of v, connects, registers the verb's component, runs
// v and stops everything, the component's unregister included. Its error carries the
// exit status (cli.Exit); with --json, a failure is also printed on out as {"errors": [...]}.
func runVerb(ctx context.Context, v verb, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("atq "+v.name, flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.Usage = func() { fmt.Fprint(fs.Output(), v.usage+verbCommonUsage+connectionUsage+"\n"+exitCodesUsage) }
	var o verbOptions
	o.flags(fs, v.withToken, v.withArgs)
	pos, dashdash, err := cli.ParseAll(fs, args)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	url, err := o.conn.resolve(set)
	if err != nil {
		return err
	}
	if err := o.conn.check(); err != nil {
		return err
	}
	if o.timeout <= 0 {
		return cli.Usagef("--timeout %v is not positive", o.timeout)
	}
	if err := v.positional(&o, pos, dashdash); err != nil {
		return err
	}
	if o.debug { // a verb's output is its answer: by default only warnings are logged
		o.log.SetLevel(slog.LevelDebug)
	}
	log := o.log.Logger(errOut)

	err = func() error {
		// A verb makes one call (or a watch): following the directory to call directly
		// would cost more than it saves.
		sys, err := cli.ConnectSystem(ctx, url, log, o.conn.options("atq-"+v.name), actors.WithDirectCalls(false))
		if err != nil {
			return verbFailure(ctx, err, exitNoAnswer)
		}
		start, cancel := context.WithTimeout(ctx, o.timeout)
		defer cancel()
		h, err := sys.Spawn(start, component.New("atq-"+v.name+"-"+randomSuffix(), component.WithCallTimeout(o.timeout)))
		if err != nil { // no answer in time: 5; refused: 1
			return cli.Stop(sys, verbFailure(ctx, cli.Registering(err), exitFailed))
		}
		work, cancel := context.WithTimeout(ctx, o.timeout)
		if v.endless {
			work, cancel = context.WithCancel(ctx)
		}
		defer cancel()
		err = v.run(work, h, &o, pos, out)
		if v.endless && err == nil {
			return cli.Stop(sys, nil) // ended by a signal, as it should
		}
		return cli.Stop(sys, verbFailure(ctx, err, 0))
	}()
	if err != nil && o.json {
		printErrors(out, err)
	}
	return err
}

// verbFailure gives err its exit status: 130 when ctx was ended by a signal, the status
// of the error's kind, else def (1 when def is 0).
func verbFailure(ctx context.Context, err error, def int) error {
	if err == nil {
		return nil
	}
	var exit *cli.ExitError
	switch {
	case ctx.Err() != nil:
		return cli.Exit(exitInterrupted, fmt.Errorf("interrupted (%s)", cli.Reason(ctx)))
	case errors.As(err, &exit):
		return err
	case errors.Is(err, component.ErrUnknownComponent), errors.Is(err, component.ErrUnknownMethod):
		return cli.Exit(exitUnknown, err)
	case errors.Is(err, component.ErrInvalidArguments):
		return cli.Exit(exitInvalidArgs, err)
	case errors.Is(err, component.ErrNotAuthorized):
		return cli.Exit(exitUnauthorized, err)
	case errors.Is(err, component.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return cli.Exit(exitNoAnswer, err)
	case def != 0:
		return cli.Exit(def, err)
	}
	return cli.Exit(exitFailed, err)
}

// printErrors writes {"errors": [...]}: the error objects of a remote failure as they
// came, else the error's text.
func printErrors(out io.Writer, err error) {
	var items []any
	var remote *component.RemoteError
	if errors.As(err, &remote) && len(remote.Items) > 0 {
		for _, it := range remote.Items {
			items = append(items, it)
		}
	} else {
		items = []any{err.Error()}
	}
	b, _ := wire.Compact(wire.Object{{Key: "errors", Value: items}})
	fmt.Fprintf(out, "%s\n", b)
}

// printJSON writes v as one line of JSON (raw JSON as it is, compacted).
func printJSON(out io.Writer, v any) error {
	b, err := wire.Compact(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}

// remoteText is a remote failure in one line: its kind and each error object's summary
// (a pydantic error list becomes "b: value is not a valid integer").
func remoteText(e *component.RemoteError) string {
	parts := make([]string, 0, len(e.Items))
	for _, it := range e.Items {
		text := it.Summary()
		// at_queue's unknown-method text names the request id and the caller first;
		// what matters is the list of methods at its end.
		if _, names, ok := strings.Cut(it.Text, "Avalible method names are: "); ok && errors.Is(e.Kind, component.ErrUnknownMethod) {
			text = fmt.Sprintf("%s has no method %q; its methods: %s", e.Receiver, e.Method, names)
		}
		parts = append(parts, strings.Join(strings.Fields(text), " "))
	}
	target := e.Receiver
	if e.Method != "" {
		target += "." + e.Method
	}
	return fmt.Sprintf("%s: %v: %s", target, e.Kind, strings.Join(parts, "; "))
}

// readable rewrites the errors of a request for people, keeping what errors.Is and
// errors.As find.
func readable(err error, target string, timeout time.Duration) error {
	var remote *component.RemoteError
	switch {
	case errors.As(err, &remote):
		return &textError{text: remoteText(remote), err: err}
	case errors.Is(err, component.ErrTimeout):
		return &textError{text: fmt.Sprintf("no answer from %s within %v (--timeout)", target, timeout), err: err}
	}
	return err
}

// textError is err shown as text.
type textError struct {
	text string
	err  error
}

func (e *textError) Error() string { return e.text }
func (e *textError) Unwrap() error { return e.err }

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// oneName is the positional check of a verb that takes exactly one NAME of a component.
func oneName(verb string) func(*verbOptions, []string, bool) error {
	return func(_ *verbOptions, pos []string, _ bool) error {
		switch {
		case len(pos) == 0:
			return cli.Usagef("%s needs the NAME of a component", verb)
		case len(pos) > 1:
			return cli.Usagef("%s takes one NAME, got also %q", verb, pos[1])
		}
		return nil
	}
}
