// Package procs holds no code: its tests build the programs (cmd/atq, cmd/demo,
// examples/intsummator, examples/sumrequester) once and run them as separate processes
// against RabbitMQ, each test in its own virtual host, the way a person would. The help
// test builds the benchmark's and the fault injection's programs too, and asks each
// program for its -h.
package procs
