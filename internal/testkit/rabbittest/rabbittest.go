// Package rabbittest is the RabbitMQ plumbing of the tests that talk to the real broker.
//
// Every test gets its own virtual host, created with rabbitmqctl and deleted when the test
// ends, so tests may run in parallel without seeing each other's queues. rabbitmqctl must
// manage the broker that URL points at (on these machines: the local node). A broker that
// cannot be reached fails the test with a message that says how to start it; nothing here
// skips.
package rabbittest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/internal/rabbitctl"
	amqp "github.com/rabbitmq/amqp091-go"
)

// DefaultURL is the broker of the development machines.
const DefaultURL = "amqp://guest:guest@127.0.0.1:5672/"

// ctlTimeout bounds one rabbitmqctl call; a healthy node answers in about a second.
const ctlTimeout = 60 * time.Second

// URL returns the broker URL for tests: $AMQP_URL or DefaultURL.
func URL() string {
	if u := os.Getenv("AMQP_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// VHost creates a fresh virtual host for this test, gives the URL's user (guest by default)
// all permissions on it, deletes it in t.Cleanup and returns the AMQP URL of it. It calls
// t.Fatalf when the broker is not reachable or rabbitmqctl fails.
func VHost(t testing.TB) string {
	t.Helper()
	u, addr, err := parse(URL())
	if err != nil {
		t.Fatalf("rabbittest: %v", err)
	}
	if err := reachable(addr); err != nil {
		t.Fatalf("RabbitMQ is not reachable at %s: %v; start it with `rabbitmq-server -detached` (or set AMQP_URL)", addr, err)
	}
	user := "guest"
	if u.User != nil && u.User.Username() != "" {
		user = u.User.Username()
	}
	name := "atq-test-" + sanitize(t.Name()) + "-" + random()
	Ctl(t, "add_vhost", name)
	t.Cleanup(func() {
		if out, err := ctl("delete_vhost", name); err != nil {
			t.Errorf("rabbittest: deleting virtual host %s: %v\n%s", name, err, out)
		}
	})
	Ctl(t, "set_permissions", "-p", name, user, ".*", ".*", ".*")
	u.Path = "/" + name
	u.RawPath = "/" + url.PathEscape(name)
	return u.String()
}

// Ctl runs `rabbitmqctl -q args...` and returns its standard output; it calls t.Fatalf
// when the command fails. It waits for the command (about a second per call).
func Ctl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := ctl(args...)
	if err != nil {
		t.Fatalf("rabbittest: %v\n%s", err, out)
	}
	return out
}

func ctl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ctlTimeout)
	defer cancel()
	return rabbitctl.Run(ctx, args...)
}

// parse returns the URL and the host:port it names (default ports by scheme).
func parse(raw string) (*url.URL, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, "", fmt.Errorf("AMQP_URL is not a URL: %v", err)
	}
	port := u.Port()
	switch {
	case port != "":
	case u.Scheme == "amqps":
		port = "5671"
	case u.Scheme == "amqp":
		port = "5672"
	default:
		return nil, "", fmt.Errorf("AMQP_URL %q: scheme must be amqp or amqps", u.Redacted())
	}
	host := u.Hostname()
	if host == "" {
		host = "localhost"
	}
	return u, net.JoinHostPort(host, port), nil
}

func reachable(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 3*time.Second)
	if err != nil {
		if op, ok := err.(*net.OpError); ok {
			return op.Err
		}
		return err
	}
	return c.Close()
}

// sanitize keeps a test name readable in `rabbitmqctl list_vhosts` and safe in a URL path.
func sanitize(name string) string {
	const max = 60
	var b strings.Builder
	for _, r := range name {
		if b.Len() >= max {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}

func random() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Channel is a plain amqp091 channel on url, closed with its connection when the test
// ends: for looking at, or changing, what the broker holds behind the runtime's back.
func Channel(t testing.TB, url string) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatalf("raw dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatalf("raw channel: %v", err)
	}
	return ch
}

// Connections lists the connection_name client properties of the connections to vhost,
// sorted: to tell whether a process kept its connection or opened a new one.
func Connections(t testing.TB, vhost string) []string {
	t.Helper()
	out := Ctl(t, "list_connections", "--no-table-headers", "vhost", "client_properties")
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		v, props, ok := strings.Cut(line, "\t")
		if !ok || v != vhost {
			continue
		}
		if i := strings.Index(props, `"connection_name","`); i >= 0 {
			name, _, _ := strings.Cut(props[i+len(`"connection_name","`):], `"`)
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// ConsumerChannels maps each consumed queue of vhost to the channel its consumer uses (the
// channel's Erlang pid): to tell which consumers share a channel.
func ConsumerChannels(t testing.TB, vhost string) map[string]string {
	t.Helper()
	out := Ctl(t, "list_consumers", "-p", vhost, "--no-table-headers", "queue_name", "channel_pid")
	channels := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if q, pid, ok := strings.Cut(line, "\t"); ok {
			channels[q] = pid
		}
	}
	return channels
}
