package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Main runs run with a context that is cancelled by the first SIGINT or SIGTERM (its
// context.Cause names the signal; a second signal kills the process the default way) and
// returns the exit status for os.Exit: 0 when run returns nil or flag.ErrHelp, 2 for a
// command-line mistake, the code of an *ExitError (see Exit), 1 for any other error. It
// prints the error on stderr as "name: err", except a mistake the flag package printed.
func Main(name string, run func(ctx context.Context, args []string) error) int {
	ctx, stop := notify(context.Background())
	err := run(ctx, os.Args[1:])
	stop()
	var shown *usageShown
	var exit *ExitError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &shown):
		return 2
	case errors.Is(err, ErrUsage):
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 2
	case errors.As(err, &exit):
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return exit.Code
	default:
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
}

// notify returns a context cancelled by the first SIGINT or SIGTERM. After that signal the
// default disposition is restored, so a second one ends the process at once. stop releases
// the signal goroutine and waits for it.
func notify(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 2) // signal.Notify needs a buffer; 2 covers INT and TERM
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer signal.Stop(sigs)
		select {
		case sig := <-sigs:
			cancel(fmt.Errorf("received %s", signalName(sig)))
		case <-quit:
		}
	}()
	return ctx, func() {
		close(quit)
		<-done
		cancel(context.Canceled)
	}
}

func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// Reason says why ctx ended, for the "shutting down" log line.
func Reason(ctx context.Context) string {
	if cause := context.Cause(ctx); cause != nil {
		return cause.Error()
	}
	return "done"
}

// Parse parses args into fs (which must use flag.ContinueOnError). -h returns
// flag.ErrHelp; a mistake, which the flag package has already printed with the usage,
// returns an error Main turns into status 2 without printing it again. Arguments left
// over are a mistake unless extra is true.
func Parse(fs *flag.FlagSet, args []string, extra bool) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageShown{err: err}
	}
	if !extra && fs.NArg() > 0 {
		return Usagef("unexpected argument %q (see -h)", fs.Arg(0))
	}
	return nil
}

// ShutdownTimeout bounds the ordered shutdown after a signal.
const ShutdownTimeout = 10 * time.Second

// StartTimeout bounds dialling the broker and registering.
const StartTimeout = 10 * time.Second
