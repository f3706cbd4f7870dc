package cli

import (
	"errors"
	"fmt"
)

// ErrUsage marks a mistake on the command line; Main exits with status 2 for it.
var ErrUsage = errors.New("usage")

// Usagef reports a command-line mistake; Main prints it and exits with status 2.
func Usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, args...))
}

// usageShown is a command-line mistake the flag package has already printed.
type usageShown struct{ err error }

func (e *usageShown) Error() string        { return e.err.Error() }
func (e *usageShown) Is(target error) bool { return target == ErrUsage }
