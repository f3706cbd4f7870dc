// Package procs holds no code: its tests build the programs (examples/registry,
// examples/intsummator, examples/sumrequester, cmd/atq, cmd/demo) once and run them as
// separate processes against RabbitMQ, each test in its own virtual host, the way a
// person would.
package procs
