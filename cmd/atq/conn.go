package main

import (
	"flag"
	"os"
	"strings"
	"time"

	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/internal/cli"
)

// connection holds the options of spec §11, which atq registry and every verb take. The
// URL wins over the parts.
type connection struct {
	url       string
	host      string
	port      int
	login     string
	password  string
	vhost     string
	heartbeat time.Duration
	durable   *cli.Durable
}

// connectionUsage is the connection section of every usage text.
const connectionUsage = `connection (a URL wins over the parts; without either, $AMQP_URL is used when set):
  -u, --url URL                  AMQP URL, e.g. amqp://guest:guest@localhost:5672/
  -H, --host HOST                RabbitMQ host (default localhost)
  -p, --port PORT                RabbitMQ port (default 5672)
  -L, --login, -U, --user, --user-name, --username, --user_name LOGIN
                                 login (default guest)
  -P, --password PASSWORD        password (default guest)
  -v, --virtualhost, --virtual-host, --virtual_host VHOST
                                 virtual host (default /)
  --heartbeat DURATION           AMQP heartbeat, e.g. 60s (default: the transport's)
  --durable=true|false           declare the queues this process creates durable or not.
                                 at_queue declares them durable since commit 6ddd4b0
                                 (2026-07-20) and non-durable in every version before,
                                 and RabbitMQ refuses a queue declared with the other
                                 flag: a deployment whose Python components pin an
                                 at_queue from before 6ddd4b0 needs --durable=false.
                                 Queues that exist are adopted as they are. Default: as
                                 the registry's own queues are if they exist, else true
`

// flags registers the connection options under all their names (the flag package accepts
// each with one or two dashes).
func (c *connection) flags(fs *flag.FlagSet) {
	str := func(p *string, def string, names ...string) {
		for _, n := range names {
			fs.StringVar(p, n, def, "")
		}
	}
	str(&c.url, "", "u", "url")
	str(&c.host, "localhost", "H", "host")
	for _, n := range []string{"p", "port"} {
		fs.IntVar(&c.port, n, 5672, "")
	}
	str(&c.login, "guest", "L", "login", "U", "user", "user-name", "username", "user_name")
	str(&c.password, "guest", "P", "password")
	str(&c.vhost, "/", "v", "virtualhost", "virtual-host", "virtual_host")
	fs.DurationVar(&c.heartbeat, "heartbeat", 0, "")
	c.durable = cli.DurableFlag(fs)
}

// check refuses the values no connection can be made with.
func (c *connection) check() error {
	switch {
	case c.port < 1 || c.port > 65535:
		return cli.Usagef("-p/--port %d is not a TCP port (1-65535)", c.port)
	case c.heartbeat < 0:
		return cli.Usagef("--heartbeat %v is negative", c.heartbeat)
	}
	return nil
}

// options are the transport options the flags ask for; name is the AMQP connection name
// RabbitMQ's management UI shows.
func (c *connection) options(name string) []amqpbridge.Option {
	opts := append([]amqpbridge.Option{amqpbridge.WithConnectionName(name)}, c.durable.Options()...)
	if c.heartbeat > 0 {
		opts = append(opts, amqpbridge.WithHeartbeat(c.heartbeat))
	}
	return opts
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
	case c.host == "":
		return "", cli.Usagef("-H/--host is empty")
	case !anyPart(set) && os.Getenv(cli.EnvURL) != "":
		return os.Getenv(cli.EnvURL), nil
	}
	return amqpbridge.URLFromParts(c.host, c.port, c.login, c.password, c.vhost), nil
}
