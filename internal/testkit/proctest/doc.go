// Package proctest runs this module's programs as separate processes from tests: it builds
// Go packages once into a temporary folder (Build, Built for TestMain), starts a built
// program with its stdout read line by line and its stderr kept whole (Start), waits for
// an output line or for the exit with a deadline, and signals or kills the process by its
// pid.
//
// It owns only that plumbing; what the programs are, their arguments and environment, and
// what their output must say belong to the test packages that use it (internal/e2e/procs,
// internal/e2e/faults).
//
// Processes and goroutines: a process belongs to the test that started it. Start starts
// one goroutine per process, which reads its stdout until the pipe closes, reaps the
// process and then ends (os/exec adds one more that copies stderr until the same exit).
// t.Cleanup, registered by Start, kills a process that is still running (by its own pid,
// never by name) and waits for that goroutine, so nothing Start began outlives the test
// and goleak.VerifyTestMain finds no goroutine left behind. Children that a program starts
// itself and that keep its stdout open would keep the goroutine waiting; the programs
// tested here start none.
package proctest
