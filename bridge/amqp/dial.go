package amqpbridge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Dial connects to the broker at rawURL (amqp://user:password@host:port/vhost) and starts the
// transport's goroutines. ctx bounds the TCP connect, the AMQP handshake and the opening of
// the first channels; it does not bound the transport's life. Errors name the address and
// match ErrInvalidURL, ErrUnreachable or ErrAccessRefused. Dial does not retry; once it has
// succeeded, the transport redials by itself after a loss (see WithReconnect).
func Dial(ctx context.Context, rawURL string, opts ...Option) (*Transport, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if o.name == "" {
		o.name = "atq-" + randomHex(4)
	}
	uri, err := amqp.ParseURI(rawURL)
	if err != nil {
		return nil, newDialError(ErrInvalidURL, err, "invalid AMQP URL %s: %v", redact(rawURL), uriError(err))
	}
	addr := net.JoinHostPort(uri.Host, strconv.Itoa(uri.Port))
	t := &Transport{
		opts:      o,
		log:       o.logger.With("component", "amqp-transport", "connection", o.name, "addr", addr),
		addr:      addr,
		rawURL:    rawURL,
		uri:       uri,
		pubSignal: make(chan struct{}, 1),
		pubExited: make(chan struct{}),
		declSem:   make(chan struct{}, declareChannels),
		closing:   make(chan struct{}),
		closeDone: make(chan struct{}),
		changed:   make(chan struct{}),
		subs:      make(map[*subscription]struct{}),
		sidSet:    make(map[string]struct{}),
	}
	l, err := t.connect(ctx, rawURL, uri)
	if err != nil {
		return nil, err
	}
	l.readyAt = time.Now()
	t.link, t.ready = l, true
	t.watchLink(l)
	t.wg.Add(1)
	go t.publisher()
	if t.reconnects() {
		t.wg.Add(1)
		go t.keep(l)
	}
	t.log.Info("connected to RabbitMQ", "vhost", uri.Vhost)
	return t, nil
}

// connect opens the connection and the publishing channel of a link. A cancelled ctx
// aborts the dial by expiring the socket's deadline.
func (t *Transport) connect(ctx context.Context, rawURL string, uri amqp.URI) (*link, error) {
	if err := ctx.Err(); err != nil {
		return nil, newDialError(ErrUnreachable, err, "cannot reach RabbitMQ at %s: %v", t.addr, err)
	}
	deadline := time.Now().Add(handshakeTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	var (
		mu      sync.Mutex
		netConn net.Conn
	)
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName(t.opts.name)
	cfg := amqp.Config{
		Heartbeat:  t.opts.heartbeat,
		Properties: props,
		Dial: func(network, addr string) (net.Conn, error) {
			var d net.Dialer
			dctx, cancel := context.WithDeadline(ctx, deadline)
			defer cancel()
			c, err := d.DialContext(dctx, network, addr)
			if err != nil {
				return nil, err
			}
			// Cleared by the library once the handshake is done.
			if err := c.SetDeadline(deadline); err != nil {
				c.Close()
				return nil, err
			}
			mu.Lock()
			netConn = c
			mu.Unlock()
			return c, nil
		},
	}
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if netConn != nil {
			_ = netConn.SetDeadline(time.Unix(1, 0))
		}
	})
	closeNet := func() {
		mu.Lock()
		defer mu.Unlock()
		if netConn != nil {
			_ = netConn.Close()
		}
	}

	conn, err := amqp.DialConfig(rawURL, cfg)
	if err != nil {
		stop()
		closeNet()
		return nil, t.dialError(ctx, uri, deadline, err)
	}
	l := &link{
		conn:     conn,
		down:     make(chan struct{}),
		pubDone:  make(chan struct{}),
		flSignal: make(chan struct{}, 1),
	}
	l.pubCh, err = l.channel(true)
	if err == nil {
		l.returns = l.pubCh.NotifyReturn(make(chan amqp.Return, returnBuffer))
	}
	if !stop() {
		// ctx ended: the socket deadline may have expired under the open connection.
		closeNet()
		return nil, newDialError(ErrUnreachable, ctx.Err(), "cannot reach RabbitMQ at %s: %v", t.addr, ctx.Err())
	}
	if err != nil {
		_ = conn.CloseDeadline(time.Now().Add(closeTimeout))
		return nil, newDialError(ErrUnreachable, err, "RabbitMQ at %s: opening the publishing channel: %v", t.addr, err)
	}
	return l, nil
}

// dialError turns what amqp091 reports into one sentence that says what and where.
func (t *Transport) dialError(ctx context.Context, uri amqp.URI, deadline time.Time, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return newDialError(ErrUnreachable, ctxErr, "cannot reach RabbitMQ at %s: %v", t.addr, ctxErr)
	}
	var amqpErr *amqp.Error
	isAMQP := errors.As(err, &amqpErr)
	var netErr net.Error
	switch {
	case !time.Now().Before(deadline):
		if dl, ok := ctx.Deadline(); ok && !dl.After(deadline) {
			// The socket deadline was ctx's; its timer may not have fired yet.
			return newDialError(ErrUnreachable, context.DeadlineExceeded, "cannot reach RabbitMQ at %s: %v", t.addr, context.DeadlineExceeded)
		}
		return newDialError(ErrUnreachable, os.ErrDeadlineExceeded, "cannot reach RabbitMQ at %s: no AMQP handshake within %v", t.addr, handshakeTimeout)
	case errors.Is(err, amqp.ErrCredentials) || isAMQP && amqpErr.Code == amqp.AccessRefused:
		return newDialError(ErrAccessRefused, err, "RabbitMQ at %s refused the login of user %q: wrong user name or password", t.addr, uri.Username)
	case errors.Is(err, amqp.ErrVhost) || isAMQP && amqpErr.Code == amqp.NotAllowed:
		return newDialError(ErrAccessRefused, err, "RabbitMQ at %s refused user %q access to virtual host %q: %s", t.addr, uri.Username, uri.Vhost, reason(err))
	case errors.Is(err, amqp.ErrSASL):
		return newDialError(ErrAccessRefused, err, "RabbitMQ at %s offers no authentication mechanism this client supports", t.addr)
	case errors.As(err, &netErr):
		return newDialError(ErrUnreachable, err, "cannot reach RabbitMQ at %s: %v", t.addr, netCause(err))
	default:
		return newDialError(ErrUnreachable, err, "cannot connect to RabbitMQ at %s: %v", t.addr, reason(err))
	}
}

// redact returns the URL without its password for messages; "" when it does not parse.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return strconv.Quote(u.Redacted())
}

// uriError drops the URL itself (which may hold a password) from a parse error.
func uriError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// netCause is the part of a network error worth reading ("connection refused").
func netCause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) {
		err = op.Err
	}
	var sys *os.SyscallError
	if errors.As(err, &sys) {
		return sys.Err
	}
	return err
}

// reason is the broker's text of an AMQP error, or the error itself.
func reason(err error) string {
	var amqpErr *amqp.Error
	if errors.As(err, &amqpErr) {
		return amqpErr.Reason
	}
	return err.Error()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
