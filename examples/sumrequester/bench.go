package main

import (
	"os"

	"github.com/at-technology/atqueue/internal/bench"
)

// Scripts run this program with the options it had before it became the seed's plain
// requester (--bench N --concurrency C for JSON lines of figures, --retry, --target,
// --timeout, --durable, -v). Given any option but --amqp, the requester of internal/bench,
// which has them all, runs instead of main.
func init() {
	if bench.RequesterOptions(os.Args[1:]) {
		os.Exit(bench.RequesterMain())
	}
}
