package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
)

// DefaultURL is the broker used when neither --amqp nor $AMQP_URL says otherwise.
const DefaultURL = "amqp://guest:guest@localhost:5672/"

// EnvURL names the environment variable that overrides DefaultURL.
const EnvURL = "AMQP_URL"

// URLFromEnv is $AMQP_URL, or DefaultURL when it is empty.
func URLFromEnv() string {
	if u := os.Getenv(EnvURL); u != "" {
		return u
	}
	return DefaultURL
}

// URL is a flag.Value holding an AMQP URL; it shows itself (in -h too) with the password
// masked.
type URL struct{ raw string }

// String is the URL with its password masked.
func (u *URL) String() string {
	if u == nil {
		return ""
	}
	return MaskURL(u.raw)
}

// Set implements flag.Value.
func (u *URL) Set(s string) error {
	if _, err := url.Parse(s); err != nil {
		return errors.New("not a URL")
	}
	u.raw = s
	return nil
}

// Raw is the URL as given, password included.
func (u *URL) Raw() string { return u.raw }

// AMQPFlag defines --amqp on fs with the default from $AMQP_URL, else DefaultURL.
func AMQPFlag(fs *flag.FlagSet) *URL {
	u := &URL{raw: URLFromEnv()}
	fs.Var(u, "amqp", "AMQP `URL` of RabbitMQ; the default is $"+EnvURL+" when set")
	return u
}

// MaskURL returns raw with its password replaced by "***". A URL that does not parse is
// not shown at all, since it may hold a password.
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.User == nil {
		return u.String()
	}
	if _, ok := u.User.Password(); !ok {
		return u.String()
	}
	const mark = "PASSWORD-MASK" // url.URL would escape "***"
	u.User = url.UserPassword(u.User.Username(), mark)
	return strings.Replace(u.String(), ":"+mark+"@", ":***@", 1)
}

// Address is host:port of an AMQP URL, with the scheme's default port (5672, 5671 for
// amqps) when the URL has none.
func Address(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "localhost"
	}
	if port == "" {
		port = "5672"
		if u.Scheme == "amqps" {
			port = "5671"
		}
	}
	return net.JoinHostPort(host, port)
}

// scrub removes the password of raw from text (an error message that may quote the URL).
func scrub(text, raw string) string {
	text = strings.ReplaceAll(text, raw, MaskURL(raw))
	if u, err := url.Parse(raw); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok && pw != "" {
			text = strings.ReplaceAll(text, ":"+pw+"@", ":***@")
			text = strings.ReplaceAll(text, ":"+url.QueryEscape(pw)+"@", ":***@")
		}
	}
	return text
}

// Dial connects the AMQP transport within StartTimeout (or until ctx ends), reporting
// connection events to log. Its error is one sentence for people, e.g.
//
//	cannot reach RabbitMQ at localhost:5672 (amqp://guest:***@localhost:5672/): connection refused — is the broker running?
func Dial(ctx context.Context, raw string, log *slog.Logger, opts ...amqpbridge.Option) (*amqpbridge.Transport, error) {
	dctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	opts = append([]amqpbridge.Option{amqpbridge.WithLogger(log)}, opts...)
	t, err := amqpbridge.Dial(dctx, raw, opts...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("interrupted while connecting to RabbitMQ at %s (%s): %s", Address(raw), MaskURL(raw), Reason(ctx))
		}
		return nil, Unreachable(raw, StartTimeout, err)
	}
	return t, nil
}

// Unreachable turns a dial error into the sentence Dial returns; the error it returns
// wraps err for errors.Is but its text never holds the password.
func Unreachable(raw string, timeout time.Duration, err error) error {
	addr, masked := Address(raw), MaskURL(raw)
	if errors.Is(err, amqpbridge.ErrInvalidURL) {
		return &dialError{msg: scrub(err.Error(), raw), err: err}
	}
	if errors.Is(err, amqpbridge.ErrAccessRefused) {
		// The broker answered: say what it refused rather than "cannot reach".
		text := scrub(err.Error(), raw)
		at := "RabbitMQ at " + addr
		if strings.Contains(text, at) {
			text = strings.Replace(text, at, at+" ("+masked+")", 1)
		} else {
			text = at + " (" + masked + "): " + text
		}
		hint := " — check the login and the password"
		if strings.Contains(text, "virtual host") || strings.Contains(text, "vhost") {
			hint = " — does the virtual host exist, and may this user use it?"
		}
		return &dialError{msg: text + hint, err: err}
	}
	return &dialError{msg: fmt.Sprintf("cannot reach RabbitMQ at %s (%s): %s", addr, masked, cause(raw, timeout, err)), err: err}
}

type dialError struct {
	msg string
	err error
}

func (e *dialError) Error() string { return e.msg }
func (e *dialError) Unwrap() error { return e.err }

// cause is the short reason and hint for a failed dial.
func cause(raw string, timeout time.Duration, err error) string {
	text := strings.TrimPrefix(scrub(err.Error(), raw), "cannot reach RabbitMQ at "+Address(raw)+": ")
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused — is the broker running?"
	case errors.As(err, &dns):
		return fmt.Sprintf("host %q not found", dns.Name)
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		return fmt.Sprintf("no answer within %v — is the broker running and reachable?", timeout)
	}
	return text
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Durable is the --durable flag of every program that talks to RabbitMQ: whether the
// send-/recieve- queues it creates are durable. Unset, the transport follows the
// deployment it finds (as the registry's queues are, else durable); queues that exist are
// always adopted as they are (see amqpbridge.WithDurable).
type Durable struct {
	set, value bool
}

// DurableFlag defines --durable on fs.
func DurableFlag(fs *flag.FlagSet) *Durable {
	d := &Durable{}
	fs.Var(d, "durable", "whether the queues this process creates are durable: true for at_queue since commit 6ddd4b0, "+
		"false for every earlier version (default: as the registry's queues are if they exist, else true)")
	return d
}

// String implements flag.Value.
func (d *Durable) String() string {
	if d == nil || !d.set {
		return "auto"
	}
	return strconv.FormatBool(d.value)
}

// Set implements flag.Value.
func (d *Durable) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return errors.New("must be true or false")
	}
	d.set, d.value = true, v
	return nil
}

// IsBoolFlag lets --durable alone mean --durable=true.
func (d *Durable) IsBoolFlag() bool { return true }

// Options are the transport options the flag asks for.
func (d *Durable) Options() []amqpbridge.Option {
	if d == nil || !d.set {
		return nil
	}
	return []amqpbridge.Option{amqpbridge.WithDurable(d.value)}
}
