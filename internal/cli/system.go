package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/at-technology/atqueue/actors"
	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
)

// Connect dials the broker at url (as Dial does) and starts an actor system over it that
// logs to log; the system owns the transport and closes it at Shutdown.
func Connect(ctx context.Context, url string, log *slog.Logger, opts ...amqpbridge.Option) (*actors.System, error) {
	t, err := Dial(ctx, url, log, opts...)
	if err != nil {
		return nil, err
	}
	sys, err := actors.New(actors.WithTransport(t), actors.WithLogger(log))
	if err != nil {
		_ = t.Close()
		return nil, err
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
