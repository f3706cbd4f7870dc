package cli

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMaskURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"amqp://guest:guest@localhost:5672/", "amqp://guest:***@localhost:5672/"},
		{"amqp://guest:p%40ss@host/%2F", "amqp://guest:***@host/%2F"},
		{"amqp://user@host/", "amqp://user@host/"},
		{"amqp://host", "amqp://host"},
		{"amqp://guest:secret@host:bad/", "(unparsable URL)"},
	} {
		if got := MaskURL(tc.in); got != tc.want {
			t.Errorf("MaskURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAddress(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"amqp://guest:guest@localhost:5672/", "localhost:5672"},
		{"amqp://h/", "h:5672"},
		{"amqps://h/", "h:5671"},
		{"amqp://[::1]:1/", "[::1]:1"},
		{"amqp:///vh", "localhost:5672"},
	} {
		if got := Address(tc.in); got != tc.want {
			t.Errorf("Address(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestUnreachable(t *testing.T) {
	const raw = "amqp://guest:s3cret@127.0.0.1:1/"
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"refused", fmt.Errorf("cannot reach RabbitMQ at 127.0.0.1:1: %w", refused),
			"cannot reach RabbitMQ at 127.0.0.1:1 (amqp://guest:***@127.0.0.1:1/): connection refused — is the broker running?"},
		{"dns", &net.DNSError{Name: "nohost", Err: "no such host", IsNotFound: true},
			`cannot reach RabbitMQ at 127.0.0.1:1 (amqp://guest:***@127.0.0.1:1/): host "nohost" not found`},
		{"other, quoting the URL", errors.New("dial " + raw + ": something odd"),
			"cannot reach RabbitMQ at 127.0.0.1:1 (amqp://guest:***@127.0.0.1:1/): dial amqp://guest:***@127.0.0.1:1/: something odd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Unreachable(raw, 10*time.Second, tc.err)
			if err.Error() != tc.want {
				t.Errorf("got  %s\nwant %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the password shows: %s", err)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("errors.Is(err, cause) = false")
			}
		})
	}
}

func TestURLFlagShowsNoPassword(t *testing.T) {
	t.Setenv(EnvURL, "amqp://me:hunter2@example:5672/")
	u := &URL{raw: URLFromEnv()}
	if u.Raw() != "amqp://me:hunter2@example:5672/" || strings.Contains(u.String(), "hunter2") {
		t.Errorf("Raw %q, String %q", u.Raw(), u.String())
	}
}
