// Package cli holds what the programs of this module share (cmd/atq, cmd/demo, and under
// internal/ the benchmarks' and the fault injection's; the examples use only the public
// API, so that they can be copied into another module): the --amqp flag and its AMQP_URL
// default, the signal handling that turns SIGINT/SIGTERM into a cancelled context, the
// single os.Exit of main, a readable slog logger on stderr, Dial, which turns an
// unreachable broker into one clear sentence with the password masked, the registry's
// state file (its default place, and CheckStateFile, which tells at start whether it can
// be written), and the pidfile of python -m at_queue (WritePidfile).
//
// A program's main is one line, os.Exit(cli.Main("name", run)); run parses its own flags
// (Parse, or ParseAll for options among the positional arguments) and returns an error,
// which Exit marks with an exit status of its own. Main owns the signal goroutine and
// stops it before returning.
package cli
