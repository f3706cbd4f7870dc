package cli

import "flag"

// ExitError is an error with the exit status Main returns for it (other than 1 and 2).
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }

// Unwrap lets errors.Is see the cause.
func (e *ExitError) Unwrap() error { return e.Err }

// Exit marks err with the exit status code for Main; a nil err stays nil.
func Exit(code int, err error) error {
	if err == nil {
		return nil
	}
	return &ExitError{Code: code, Err: err}
}

// ParseAll parses args into fs (flag.ContinueOnError) with the options allowed anywhere
// among the positional arguments, as people type them (atq call NAME METHOD a=1 --json);
// "--" ends the options, and whatever follows it is positional. It returns the
// positional arguments in order and reports whether a "--" was given. Errors are those of
// Parse.
func ParseAll(fs *flag.FlagSet, args []string) (positional []string, dashdash bool, err error) {
	for {
		if err := Parse(fs, args, true); err != nil {
			return nil, false, err
		}
		rest := fs.Args()
		// The flag package stops at the first positional argument, or after a "--"
		// it consumed: tell the two apart by what preceded the rest.
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), true, nil
		}
		if len(rest) == 0 {
			return positional, false, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
