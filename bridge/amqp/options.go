package amqpbridge

import (
	"log/slog"
	"time"

	"github.com/at-technology/atqueue/supervision"
)

// Option configures Dial.
type Option func(*options)

type options struct {
	heartbeat      time.Duration
	logger         *slog.Logger
	confirmTimeout time.Duration
	name           string
	reconnect      supervision.Backoff
	durable        *bool // nil: as the registry's queues are, when they exist; else true
}

func defaultOptions() options {
	return options{
		heartbeat:      10 * time.Second,
		logger:         slog.New(slog.DiscardHandler),
		confirmTimeout: 30 * time.Second,
		reconnect:      supervision.Backoff{Initial: 100 * time.Millisecond, Max: 5 * time.Second, Multiplier: 2, Jitter: 0.5},
	}
}

// WithReconnect sets the backoff between redials after the connection is lost (default:
// Initial 100ms, Max 5s, Multiplier 2, Jitter 0.5). Delays below 10ms
// are raised to 10ms. A Max of 0 (for example the zero Backoff) disables reconnection: the
// first loss is final and every later call fails with bridge.ErrConnectionLost.
func WithReconnect(b supervision.Backoff) Option {
	return func(o *options) { o.reconnect = b }
}

// WithHeartbeat sets the AMQP heartbeat interval the client proposes (default 10s); the
// broker may lower it. A heartbeat query parameter in the URL takes precedence.
func WithHeartbeat(d time.Duration) Option {
	return func(o *options) { o.heartbeat = d }
}

// WithLogger sets where the transport reports connection events (default: nowhere; the
// process-wide default logger is never used unasked).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithConfirmTimeout bounds how long a publish may wait, from the Publish call, for the
// broker's confirm before its done is called with ErrConfirmTimeout (default 30s). A publish
// still held for want of a connection at that time gets bridge.ErrConnectionLost instead.
func WithConfirmTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.confirmTimeout = d
		}
	}
}

// WithConnectionName sets the connection_name client property, shown by
// `rabbitmqctl list_connections client_properties` (default "atq-<8 random hex digits>").
func WithConnectionName(name string) Option {
	return func(o *options) { o.name = name }
}

// WithDurable sets whether the transport declares the send-/recieve- queues it creates
// durable. Queues that exist already are adopted with the flags they have, whatever this
// says. Without it the transport follows the deployment it finds: the queues it creates
// are durable or not as the registry's own pair (send-/recieve-953352fc-…) is, when that
// pair exists when it is first declared, and durable otherwise (as at_queue declares them
// since commit 6ddd4b0; every version before declares them non-durable). A registry that
// starts first in a deployment of old components needs WithDurable(false).
func WithDurable(durable bool) Option {
	return func(o *options) { o.durable = &durable }
}
