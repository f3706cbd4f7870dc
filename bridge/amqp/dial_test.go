package amqpbridge_test

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	amqpbridge "github.com/at-technology/atqueue/bridge/amqp"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
	"github.com/at-technology/atqueue/internal/testkit/testlog"
	amqp "github.com/rabbitmq/amqp091-go"
)

// brokerURL is rabbittest.URL with other credentials or virtual host.
func brokerURL(t *testing.T, user, password, vhost string) string {
	t.Helper()
	u, err := url.Parse(rabbittest.URL())
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(user, password)
	u.Path = "/" + vhost
	return u.String()
}

func TestDialErrors(t *testing.T) {
	t.Parallel()
	host := func() string {
		u, _ := amqp.ParseURI(rabbittest.URL())
		return net.JoinHostPort(u.Host, "5672")
	}()
	tests := []struct {
		name   string
		url    string
		kind   error
		cause  error
		says   []string
		secret string
	}{
		{
			name:  "refused",
			url:   "amqp://guest:guest@127.0.0.1:1/",
			kind:  amqpbridge.ErrUnreachable,
			cause: syscall.ECONNREFUSED,
			says:  []string{"cannot reach RabbitMQ at 127.0.0.1:1: connection refused"},
		},
		{
			name:   "bad password",
			url:    brokerURL(t, "guest", "s3cret-pw", ""),
			kind:   amqpbridge.ErrAccessRefused,
			says:   []string{"RabbitMQ at " + host, `refused the login of user "guest"`},
			secret: "s3cret-pw",
		},
		{
			name: "unknown vhost",
			url:  brokerURL(t, "guest", "guest", "atq-test-no-such-vhost"),
			kind: amqpbridge.ErrAccessRefused,
			says: []string{"RabbitMQ at " + host, `virtual host "atq-test-no-such-vhost"`},
		},
		{
			name: "wrong scheme",
			url:  "http://127.0.0.1:5672/",
			kind: amqpbridge.ErrInvalidURL,
			says: []string{"invalid AMQP URL", "scheme"},
		},
		{
			name:   "bad port",
			url:    "amqp://guest:s3cret-pw@127.0.0.1:port/",
			kind:   amqpbridge.ErrInvalidURL,
			says:   []string{"invalid AMQP URL"},
			secret: "s3cret-pw",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			tr, err := amqpbridge.Dial(ctxFor(t), tc.url, amqpbridge.WithLogger(testlog.New(t)))
			if err == nil {
				tr.Close()
				t.Fatal("Dial succeeded")
			}
			t.Logf("Dial: %v", err)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Dial took %v to fail", d)
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("error %q does not match %v", err, tc.kind)
			}
			if tc.cause != nil && !errors.Is(err, tc.cause) {
				t.Errorf("error %q does not match %v", err, tc.cause)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if tc.secret != "" && strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

// silentServer accepts TCP connections and never speaks AMQP.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	})
	return "amqp://guest:guest@" + ln.Addr().String() + "/"
}

func TestDialHonoursContext(t *testing.T) {
	t.Parallel()
	u := silentServer(t)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := amqpbridge.Dial(ctx, u, amqpbridge.WithLogger(testlog.New(t)))
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, amqpbridge.ErrUnreachable) || !strings.Contains(err.Error(), "cannot reach RabbitMQ at 127.0.0.1:") {
		t.Errorf("Dial to a silent server with a deadline: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Dial returned after %v, ctx allowed 300ms", d)
	}

	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	_, err = amqpbridge.Dial(ctx, u, amqpbridge.WithLogger(testlog.New(t)))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Dial to a silent server, cancelled: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Dial returned %v after the cancel", d)
	}
}

func TestURLFromParts(t *testing.T) {
	tests := []struct {
		host                   string
		port                   int
		login, password, vhost string
		want                   string
	}{
		{"", 0, "", "", "", "amqp://guest:guest@localhost:5672/%2F"},
		{"rabbit", 5673, "user", "p@ss:w/rd?#", "/", "amqp://user:p%40ss%3Aw%2Frd%3F%23@rabbit:5673/%2F"},
		{"::1", 5672, "u", "p", "my/vhost?x", "amqp://u:p@[::1]:5672/my%2Fvhost%3Fx"},
		{"h", 5672, "u", "p", "atq", "amqp://u:p@h:5672/atq"},
	}
	for _, tc := range tests {
		got := amqpbridge.URLFromParts(tc.host, tc.port, tc.login, tc.password, tc.vhost)
		if got != tc.want {
			t.Errorf("URLFromParts(%q, %d, %q, %q, %q) = %s, want %s", tc.host, tc.port, tc.login, tc.password, tc.vhost, got, tc.want)
		}
		uri, err := amqp.ParseURI(got)
		if err != nil {
			t.Errorf("amqp091 cannot parse %s: %v", got, err)
			continue
		}
		want := amqp.URI{Host: tc.host, Port: tc.port, Username: tc.login, Password: tc.password, Vhost: tc.vhost}
		if want.Host == "" {
			want = amqp.URI{Host: "localhost", Port: 5672, Username: "guest", Password: "guest", Vhost: "/"}
		}
		if uri.Host != want.Host || uri.Port != want.Port || uri.Username != want.Username || uri.Password != want.Password || uri.Vhost != want.Vhost {
			t.Errorf("%s parses as %s@%s:%d vhost %q (password %q), want %s@%s:%d vhost %q", got, uri.Username, uri.Host, uri.Port, uri.Vhost, uri.Password, want.Username, want.Host, want.Port, want.Vhost)
		}
	}
}
