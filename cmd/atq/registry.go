package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/at-technology/atqueue/actors"
	"github.com/at-technology/atqueue/metrics"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/at-technology/atqueue/internal/cli"
	reg "github.com/at-technology/atqueue/registry"
)

// registryOptions are the options of atq registry. To add one: a field here, its flag
// in flags, its line in registryUsage, and its check in check.
type registryOptions struct {
	conn connection

	// directory
	state      string
	deadAfter  time.Duration
	probeEvery time.Duration
	probeRate  int
	confirmed  bool
	startGrace time.Duration
	linger     time.Duration
	forgetDead time.Duration
	limits     reg.Limits

	// one registry per virtual host
	standby      bool
	standbyRetry time.Duration

	// debug HTTP API (spec §10)
	debugger     bool
	debuggerHost string
	debuggerPort int
	callTimeout  time.Duration

	// process
	pidfile string
	debug   bool
	log     *cli.LogOptions
}

// flags registers every option under all its names (the flag package accepts each with
// one or two dashes).
func (o *registryOptions) flags(fs *flag.FlagSet) {
	str := func(p *string, def string, names ...string) {
		for _, n := range names {
			fs.StringVar(p, n, def, "")
		}
	}
	num := func(p *int, def int, names ...string) {
		for _, n := range names {
			fs.IntVar(p, n, def, "")
		}
	}
	o.conn.flags(fs)

	fs.StringVar(&o.state, "state", "", "")
	fs.DurationVar(&o.deadAfter, "dead-after", 2*time.Second, "")
	fs.DurationVar(&o.probeEvery, "probe-every", time.Second, "")
	fs.IntVar(&o.probeRate, "probe-rate", reg.DefaultProbeRate, "")
	fs.BoolVar(&o.confirmed, "confirmed-routing", false, "")
	fs.DurationVar(&o.startGrace, "start-grace", 30*time.Second, "")
	fs.DurationVar(&o.linger, "linger", 30*time.Second, "")
	fs.DurationVar(&o.forgetDead, "forget-dead-after", 0, "")
	fs.IntVar(&o.limits.Description, "max-description", reg.DefaultLimits.Description, "")
	fs.IntVar(&o.limits.Name, "max-name", reg.DefaultLimits.Name, "")
	fs.IntVar(&o.limits.Methods, "max-methods", reg.DefaultLimits.Methods, "")

	fs.BoolVar(&o.standby, "standby", false, "")
	fs.DurationVar(&o.standbyRetry, "standby-retry", time.Second, "")

	fs.BoolVar(&o.debugger, "debugger", true, "")
	str(&o.debuggerHost, "127.0.0.1", "dh", "debugger-host", "debugger_host")
	num(&o.debuggerPort, 8080, "dp", "debugger-port", "debugger_port")
	fs.DurationVar(&o.callTimeout, "call-timeout", 30*time.Second, "")

	fs.StringVar(&o.pidfile, "pidfile", cli.DefaultPidfile, "")
	fs.BoolVar(&o.debug, "debug", false, "")
	o.log = cli.LogFlags(fs, slog.LevelInfo)
}

const registryUsage = `usage: atq registry [options]

Runs the AT_QUEUE registry over RabbitMQ, and the debug HTTP API of python -m at_queue
beside it with the web console and Prometheus metrics, until SIGINT or SIGTERM, then
stops in order and exits 0. Prints "debug HTTP API listening on http://HOST:PORT", "web
console on http://HOST:PORT/" and then "registry listening on <URL>" on stdout once it
serves; logs go to stderr. A bad option value is refused at start (exit status 2).

` + connectionUsage + `
directory:
  --state FILE                   where the directory is kept, so a restarted registry
                                 forgets no component (Python components never register
                                 again); default: one file per broker and virtual host
                                 under $XDG_STATE_HOME/atq; "none" keeps nothing. Its
                                 folder is created; a file that cannot be written is
                                 refused at start
  --dead-after DURATION          a component whose queue has had no consumer this long
                                 is reported not alive, calls to it fail at once and the
                                 requests waiting in its queue are answered so (default
                                 2s; 0: never)
  --probe-every DURATION         how often every component's queue is checked for a
                                 consumer, one passive declare each (default 1s)
  --probe-rate N                 at most N of those checks a second (default 20): with
                                 more than probe-every × N components the round takes
                                 longer (50s with 1,000); a component called through
                                 the registry, or directly by a caller that reports
                                 its calls, is checked at once when its last check is
                                 older than probe-every
  --start-grace DURATION         how long a component may take after it registered to
                                 consume its queue before it is reported not alive
                                 (default 30s: a Python component consumes from start())
  --linger DURATION              how long the registry still routes what a component that
                                 unregistered sends, and answers what is left in its
                                 queue; then its queues are deleted if empty (default 30s)
  --forget-dead-after DURATION   forget a component dead this long, and delete its queues
                                 if empty (default 0: never, as python -m at_queue)
  --max-description BYTES        the largest description a component may register
                                 (default 1048576)
  --max-name CHARACTERS          the longest component name (default 256)
  --max-methods N                the most methods in one description (default 1024)
  --confirmed-routing            route each message with a publisher confirm, as the
                                 registry's own answers go; by default a routed message
                                 is published on the channel it came through and
                                 acknowledged right after it (at least once either way;
                                 forwarding saves a round trip per hop)

one registry per virtual host:
  A registry consumes its queues as their only consumer; a second registry on the same
  virtual host (Go, or python -m at_queue) is refused at start (exit status 1).
  --standby                      wait instead, as a hot standby, and take over (with the
                                 directory of --state) once the serving registry is gone;
                                 its pidfile and HTTP API start when it takes over
  --standby-retry DURATION       how often a standby tries to take over (default 1s)

debug HTTP API (as python -m at_queue's; an inspector-<uuid> component makes its calls):
  -dh, --debugger-host, --debugger_host HOST
                                 address to listen on (default 127.0.0.1)
  -dp, --debugger-port, --debugger_port PORT
                                 port to listen on (default 8080; 0: any free port). A
                                 taken address is refused at start (exit status 1)
  --call-timeout DURATION        deadline of each call made through the API (default
                                 30s); a call with no answer by then gets HTTP 504
  --debugger=false               serve no HTTP API and start no inspector
  Routes: GET /api/components (inspect_all), POST /api/exec_method {"component",
  "method", "kwargs", "auth_token"} → {"result": ...} or 500 {"detail": {...}}, and
  GET /openapi.json; any origin is allowed (CORS, with credentials). Beside them: the
  web console at GET / (components, their methods as forms, the calls as they flow) and
  Prometheus metrics at GET /metrics; --debugger=false turns these off too.

process:
  --pidfile PATH                 write the process id there, creating its folder, and
                                 remove it at exit (default /var/run/at_queue/pidfile.pid;
                                 "" writes none); a failure to write it is logged
  --debug                        log debug records (--log-level debug)
  --log-format text|json         text for people (default), json for log collectors
  --log-level LEVEL              debug, info (default), warn or error
  -h, --help                     show this text
`

// check refuses, before anything starts, the values the registry cannot work with.
func (o *registryOptions) check() error {
	if err := o.conn.check(); err != nil {
		return err
	}
	switch {
	case o.deadAfter < 0:
		return cli.Usagef("--dead-after %v is negative (0 turns it off)", o.deadAfter)
	case o.probeEvery <= 0:
		return cli.Usagef("--probe-every %v is not positive", o.probeEvery)
	case o.probeRate <= 0:
		return cli.Usagef("--probe-rate %d is not positive", o.probeRate)
	case o.startGrace < 0:
		return cli.Usagef("--start-grace %v is negative", o.startGrace)
	case o.standbyRetry <= 0:
		return cli.Usagef("--standby-retry %v is not positive", o.standbyRetry)
	case o.linger < 0:
		return cli.Usagef("--linger %v is negative", o.linger)
	case o.forgetDead < 0:
		return cli.Usagef("--forget-dead-after %v is negative (0: never)", o.forgetDead)
	case o.limits.Description <= 0 || o.limits.Name <= 0 || o.limits.Methods <= 0:
		return cli.Usagef("--max-description, --max-name and --max-methods must be positive")
	case o.debuggerPort < 0 || o.debuggerPort > 65535:
		return cli.Usagef("-dp/--debugger-port %d is not a TCP port (0-65535; 0: any free port)", o.debuggerPort)
	case o.callTimeout <= 0:
		return cli.Usagef("--call-timeout %v is not positive", o.callTimeout)
	}
	host, err := checkHost(o.debuggerHost)
	if err != nil {
		return cli.Usagef("-dh/--debugger-host %q %v", o.debuggerHost, err)
	}
	o.debuggerHost = host
	return nil
}

var errNotHost = errors.New("is not a host name or an IP address")

// checkHost accepts an IP address (an IPv6 one with or without brackets) or a host name,
// and returns it without brackets.
func checkHost(h string) (string, error) {
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if h == "" {
		return "", errors.New("is empty")
	}
	if net.ParseIP(h) != nil {
		return h, nil
	}
	if len(h) > 253 {
		return "", errNotHost
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", errNotHost
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return "", errNotHost
			}
		}
	}
	return h, nil
}

func registry(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("atq registry", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.Usage = func() { fmt.Fprint(fs.Output(), registryUsage) }
	var o registryOptions
	o.flags(fs)
	if err := cli.Parse(fs, args, false); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.debug {
		o.log.SetLevel(slog.LevelDebug)
	}
	log := o.log.Logger(errOut)

	url, err := o.conn.resolve(set)
	if err != nil {
		return err
	}
	if err := o.check(); err != nil {
		return err
	}
	statePath, err := cli.StatePath(o.state, url)
	if err == nil {
		err = cli.CheckStateFile(statePath)
	}
	if err != nil {
		return cli.Usagef("--state cannot be written: %v", err)
	}
	if o.conn.url != "" && anyPart(set) {
		log.Warn("both a URL and host/port/login/password/vhost options were given; the URL wins")
	}
	var api *debugAPI
	if o.debugger && !o.standby {
		// Bound now: a taken address stops the start before the registry serves. A
		// standby binds it when it takes over, since the serving registry may hold it.
		if api, err = listenDebugAPI(o.debuggerHost, o.debuggerPort); err != nil {
			return err
		}
		defer api.close()
	}

	m := metrics.New()
	sys, err := cli.ConnectSystem(ctx, url, log, o.conn.options("atq-registry"), actors.WithMetrics(m))
	if err != nil {
		return cli.Interrupted(ctx, err)
	}
	if statePath != "" {
		log.Info("directory kept in a file", "state", statePath)
	}
	regOpts := []reg.Option{reg.WithStateFile(statePath), reg.WithLiveness(o.probeEvery, o.deadAfter), reg.WithProbeRate(o.probeRate), reg.WithConfirmedRouting(o.confirmed), reg.WithStartGrace(o.startGrace),
		reg.WithLinger(o.linger), reg.WithForgetDead(o.forgetDead), reg.WithLimits(o.limits)}
	waitFor := ctx
	if o.standby {
		regOpts = append(regOpts, reg.WithStandby(o.standbyRetry))
	} else {
		var cancel context.CancelFunc
		waitFor, cancel = context.WithTimeout(ctx, cli.StartTimeout)
		defer cancel()
	}
	regPID, err := sys.StartRegistry(waitFor, regOpts...)
	if err != nil {
		return cli.Stop(sys, cli.Interrupted(ctx, err))
	}
	start, cancel := context.WithTimeout(ctx, cli.StartTimeout)
	defer cancel()
	if o.debugger && o.standby {
		if api, err = listenDebugAPI(o.debuggerHost, o.debuggerPort); err != nil {
			log.Error("the registry serves, without its debug HTTP API", "err", err)
		} else {
			defer api.close()
		}
	}
	if api != nil {
		if err := api.start(start, sys, regPID, m, o.callTimeout, log); err != nil {
			return cli.Stop(sys, cli.Interrupted(ctx, err))
		}
		fmt.Fprintf(out, "debug HTTP API listening on %s (calls through %s)\n", api.url(), api.inspector.Name())
		fmt.Fprintf(out, "web console on %s/\n", api.url())
	}
	pid := writePidfile(o.pidfile, log)
	defer removePidfile(pid, log)
	log.Debug("serving", "url", cli.MaskURL(url), "pid", os.Getpid())
	fmt.Fprintf(out, "registry listening on %s\n", cli.MaskURL(url))

	<-ctx.Done()
	log.Info("shutting down", "reason", cli.Reason(ctx))
	if api != nil {
		api.close() // before the inspector and the registry stop: calls in flight get 503
	}
	if err := cli.Stop(sys, nil); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// writePidfile writes the pidfile as python -m at_queue does, except that any failure
// (not only a permission error) is logged and the registry goes on serving.
func writePidfile(path string, log *slog.Logger) *cli.Pidfile {
	if path == "" {
		return nil
	}
	p, err := cli.WritePidfile(path)
	if err != nil {
		log.Error("cannot write the pidfile; the registry serves anyway, but health checks that read it will fail", "err", err)
		return nil
	}
	if p.Replaced != 0 {
		log.Warn("the pidfile named another running process; it now names this one", "pidfile", path, "other_pid", p.Replaced)
	}
	log.Debug("pidfile written", "pidfile", path, "pid", os.Getpid())
	return p
}

func removePidfile(p *cli.Pidfile, log *slog.Logger) {
	if err := p.Remove(); err != nil {
		log.Warn("cannot remove the pidfile", "err", err)
	}
}
