package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/internal/cli"
	reg "github.com/at-technology/atqueue/registry"
)

// connection holds the options of spec §11. The URL wins over the parts.
type connection struct {
	url       string
	host      string
	port      int
	login     string
	password  string
	vhost     string
	heartbeat time.Duration

	debuggerHost string // accepted for compatibility; there is no debug server
	debuggerPort int
}

// flags registers every option under all its names (the flag package accepts each with
// one or two dashes).
func (c *connection) flags(fs *flag.FlagSet) {
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
	str(&c.url, "", "u", "url")
	str(&c.host, "localhost", "H", "host")
	num(&c.port, 5672, "p", "port")
	str(&c.login, "guest", "L", "login", "U", "user", "user-name", "username", "user_name")
	str(&c.password, "guest", "P", "password")
	str(&c.vhost, "/", "v", "virtualhost", "virtual-host", "virtual_host")
	str(&c.debuggerHost, "127.0.0.1", "dh", "debugger-host", "debugger_host")
	num(&c.debuggerPort, 8080, "dp", "debugger-port", "debugger_port")
	fs.DurationVar(&c.heartbeat, "heartbeat", 0, "")
}

const registryUsage = `usage: atq registry [options]

Runs the AT_QUEUE registry over RabbitMQ until SIGINT or SIGTERM, then stops in order
and exits 0. Prints "registry listening on <URL>" on stdout once it serves; logs go to
stderr.

connection (a URL wins over the parts; without either, $AMQP_URL is used when set):
  -u, --url URL                  AMQP URL, e.g. amqp://guest:guest@localhost:5672/
  -H, --host HOST                RabbitMQ host (default localhost)
  -p, --port PORT                RabbitMQ port (default 5672)
  -L, --login, -U, --user, --user-name, --username, --user_name LOGIN
                                 login (default guest)
  -P, --password PASSWORD        password (default guest)
  -v, --virtualhost, --virtual-host, --virtual_host VHOST
                                 virtual host (default /)
  --heartbeat DURATION           AMQP heartbeat, e.g. 60s (default: the transport's)

directory:
  --state FILE                   where the directory is kept, so a restarted registry
                                 forgets no component (Python components never register
                                 again); default: one file per broker and virtual host
                                 under $XDG_STATE_HOME/atq; "none" keeps nothing
  --dead-after DURATION          a component whose queue has had no consumer this long
                                 is reported not alive and calls to it fail at once
                                 (default 30s)

other:
  --debug                        log debug records
  -dh, --debugger-host, -dp, --debugger-port
                                 accepted for compatibility with python -m at_queue and
                                 ignored: there is no debug HTTP server
  -h, --help                     show this text
`

func registry(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("atq registry", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.Usage = func() { fmt.Fprint(fs.Output(), registryUsage) }
	var c connection
	c.flags(fs)
	debug := fs.Bool("debug", false, "")
	state := cli.StateFlag(fs)
	deadAfter := fs.Duration("dead-after", 30*time.Second, "")
	if err := cli.Parse(fs, args, false); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	log := cli.Logger(errOut, cli.Level(*debug))

	url, err := c.resolve(set)
	if err != nil {
		return err
	}
	if set["dh"] || set["debugger-host"] || set["debugger_host"] || set["dp"] || set["debugger-port"] || set["debugger_port"] {
		log.Warn("the debug HTTP server of python -m at_queue is not available; -dh/-dp are ignored")
	}
	if c.url != "" && anyPart(set) {
		log.Warn("both a URL and host/port/login/password/vhost options were given; the URL wins")
	}
	opts := []amqpbridge.Option{amqpbridge.WithConnectionName("atq-registry")}
	if c.heartbeat > 0 {
		opts = append(opts, amqpbridge.WithHeartbeat(c.heartbeat))
	}
	sys, err := cli.Connect(ctx, url, log, opts...)
	if err != nil {
		return cli.Interrupted(ctx, err)
	}
	start, cancel := context.WithTimeout(ctx, cli.StartTimeout)
	defer cancel()
	statePath, err := cli.StatePath(*state, url)
	if err != nil {
		return cli.Stop(sys, err)
	}
	if statePath != "" {
		log.Info("directory kept in a file", "state", statePath)
	}
	if _, err := sys.StartRegistry(start, reg.WithStateFile(statePath), reg.WithLiveness(2*time.Second, *deadAfter)); err != nil {
		return cli.Stop(sys, cli.Interrupted(ctx, err))
	}
	log.Debug("serving", "url", cli.MaskURL(url), "pid", os.Getpid())
	fmt.Fprintf(out, "registry listening on %s\n", cli.MaskURL(url))

	<-ctx.Done()
	log.Info("shutting down", "reason", cli.Reason(ctx))
	if err := cli.Stop(sys, nil); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

var partNames = []string{"H", "host", "p", "port", "L", "login", "U", "user", "user-name", "username", "user_name",
	"P", "password", "v", "virtualhost", "virtual-host", "virtual_host"}

func anyPart(set map[string]bool) bool {
	for _, n := range partNames {
		if set[n] {
			return true
		}
	}
	return false
}

// resolve is the URL to dial: -u, else the parts when any was given, else $AMQP_URL when
// set, else the parts' defaults.
func (c *connection) resolve(set map[string]bool) (string, error) {
	switch {
	case c.url != "":
		if !strings.HasPrefix(c.url, "amqp://") && !strings.HasPrefix(c.url, "amqps://") {
			return "", cli.Usagef("-u/--url must start with amqp:// or amqps://")
		}
		return c.url, nil
	case c.port < 1 || c.port > 65535:
		return "", cli.Usagef("-p/--port %d is not a TCP port", c.port)
	case c.host == "":
		return "", cli.Usagef("-H/--host is empty")
	case !anyPart(set) && os.Getenv(cli.EnvURL) != "":
		return os.Getenv(cli.EnvURL), nil
	}
	return amqpbridge.URLFromParts(c.host, c.port, c.login, c.password, c.vhost), nil
}
