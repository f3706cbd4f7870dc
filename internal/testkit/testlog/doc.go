// Package testlog gives tests a *slog.Logger that writes into the test's own log (shown
// with -v or when the test fails), so that what the runtime logged is read beside the
// failure it explains.
//
// A record logged after the test's cleanup has run is dropped: testing panics on a Log
// after the test has completed, and a goroutine that is still stopping must not turn a
// passing test into a crash.
package testlog
