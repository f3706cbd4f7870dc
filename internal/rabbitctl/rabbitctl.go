// Package rabbitctl runs RabbitMQ's rabbitmqctl for the test kit and the benchmarks,
// which manage virtual hosts with it (the management API is not always enabled).
package rabbitctl

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Run runs `rabbitmqctl -q args...` within ctx and returns its standard output; a
// failure's error holds the command and what it wrote on standard error.
func Run(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, Path(), append([]string{"-q"}, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("rabbitmqctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// Path is $RABBITMQCTL, else rabbitmqctl on $PATH, else where Debian puts it (root's
// tools are not always on a test's PATH).
func Path() string {
	if p := os.Getenv("RABBITMQCTL"); p != "" {
		return p
	}
	if p, err := exec.LookPath("rabbitmqctl"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/rabbitmqctl", "/usr/lib/rabbitmq/bin/rabbitmqctl"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "rabbitmqctl"
}
