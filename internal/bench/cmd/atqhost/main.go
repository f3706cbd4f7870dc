// Command atqhost registers many components at a registry on demand, for atqbench's
// scale and burst measurements (see package bench, host.go, for its protocol).
package main

import (
	"os"

	"github.com/at-technology/atqueue/internal/bench"
)

func main() { os.Exit(bench.HostMain()) }
