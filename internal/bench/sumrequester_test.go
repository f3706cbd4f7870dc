package bench_test

import (
	"strings"
	"testing"

	"github.com/at-technology/atqueue/internal/bench"
)

// Which command lines examples/sumrequester hands to the requester with options: any
// that holds more than --amqp URL, so that every old command line keeps its meaning.
func TestRequesterOptions(t *testing.T) {
	for _, tc := range []struct {
		args string
		want bool
	}{
		{"", false},
		{"--amqp amqp://h/", false},
		{"-amqp amqp://h/", false},
		{"--amqp=amqp://h/", false},
		{"-amqp=amqp://h/ --amqp amqp://h2/", false},
		{"--bench 50 --concurrency 8", true},
		{"--amqp amqp://h/ --bench 200 --concurrency 16 --retry --timeout 20s", true},
		{"--retry", true},
		{"--target Other", true},
		{"--timeout=1s", true},
		{"--log-level debug", true},
		{"-h", true},
		{"--amqp", true}, // no value: the requester says so
		{"extra", true},  // an argument: the requester refuses it
	} {
		if got := bench.RequesterOptions(strings.Fields(tc.args)); got != tc.want {
			t.Errorf("RequesterOptions(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}
