package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/at-technology/atqueue/actors"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
)

// Connect starts an actor system whose bridge connects to the broker at url (within
// StartTimeout, or until ctx ends) and that logs to log; the bridge owns its connection and
// closes it at Shutdown. Its error is Dial's sentence.
func Connect(ctx context.Context, url string, log *slog.Logger, opts ...amqpbridge.Option) (*actors.System, error) {
	return ConnectSystem(ctx, url, log, opts)
}

// ConnectSystem is Connect with options for the actor system too.
func ConnectSystem(ctx context.Context, url string, log *slog.Logger, opts []amqpbridge.Option, sysOpts ...actors.Option) (*actors.System, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	opts = append([]amqpbridge.Option{amqpbridge.WithLogger(log)}, opts...)
	sysOpts = append([]actors.Option{actors.WithBroker(amqpbridge.NewBroker(url, opts...)), actors.WithLogger(log),
		actors.WithConnectTimeout(StartTimeout)}, sysOpts...)
	sys, err := actors.New(sysOpts...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("interrupted while connecting to RabbitMQ at %s (%s): %s", Address(url), MaskURL(url), Reason(ctx))
		}
		return nil, Unreachable(url, StartTimeout, err)
	}
	return sys, nil
}

// Stop shuts sys down in order within ShutdownTimeout. err, the reason for stopping
// (nil for a normal stop), comes first in the result.
func Stop(sys *actors.System, err error) error {
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	serr := sys.Shutdown(ctx)
	switch {
	case serr == nil:
		return err
	case err == nil:
		return fmt.Errorf("shutting down: %w", serr)
	default:
		return fmt.Errorf("%w (then, shutting down: %v)", err, serr)
	}
}

// Interrupted is nil when ctx was ended by a signal (a request to stop, not a failure),
// and err otherwise.
func Interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// Registering adds a hint to a registration that timed out: the usual cause is that no
// registry is running on that broker and virtual host.
func Registering(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w — is the registry running on this broker and virtual host?", err)
	}
	return err
}
