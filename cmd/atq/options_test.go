package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/at-technology/atqueue/component"
	"github.com/at-technology/atqueue/internal/cli"
	"github.com/at-technology/atqueue/internal/testkit/apitest"
	"github.com/at-technology/atqueue/internal/testkit/rabbittest"
)

// dead is a broker address where nothing listens: a start that got as far as connecting
// would fail with "cannot reach" instead of the message a test expects.
const dead = "amqp://guest:guest@127.0.0.1:1/"

// Every bad option value is refused before anything starts, with one line naming the
// option.
func TestBadOptionsAreRefused(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_STATE_HOME", dir)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--state", filepath.Join(file, "state.json")}, "--state cannot be written: "},
		{[]string{"--state", dir}, "--state cannot be written: " + dir + " is a folder"},
		{[]string{"--dead-after", "-1s"}, "--dead-after -1s is negative"},
		{[]string{"--heartbeat", "-5s"}, "--heartbeat -5s is negative"},
		{[]string{"--call-timeout", "0s"}, "--call-timeout 0s is not positive"},
		{[]string{"--call-timeout", "-1m"}, "--call-timeout -1m0s is not positive"},
		{[]string{"-p", "0"}, "-p/--port 0 is not a TCP port"},
		{[]string{"--port", "65536"}, "-p/--port 65536 is not a TCP port"},
		{[]string{"-dp", "-1"}, "-dp/--debugger-port -1 is not a TCP port"},
		{[]string{"--debugger-port", "70000"}, "-dp/--debugger-port 70000 is not a TCP port"},
		{[]string{"-dh", ""}, `-dh/--debugger-host "" is empty`},
		{[]string{"--debugger_host", "no such host"}, `-dh/--debugger-host "no such host" is not a host name or an IP address`},
		{[]string{"-dh", "http://x"}, `-dh/--debugger-host "http://x" is not a host name or an IP address`},
		{[]string{"-H", ""}, "-H/--host is empty"},
		{[]string{"--probe-every", "0s"}, "--probe-every 0s is not positive"},
		{[]string{"--probe-rate", "0"}, "--probe-rate 0 is not positive"},
		{[]string{"--linger", "-1s"}, "--linger -1s is negative"},
		{[]string{"--forget-dead-after", "-1h"}, "--forget-dead-after -1h0m0s is negative"},
		{[]string{"--max-description", "0"}, "--max-description, --max-name and --max-methods must be positive"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			args := append([]string{"--pidfile", ""}, tc.args...)
			if !hasFlag(tc.args, "-H") {
				args = append(args, "-u", dead)
			}
			var out, errOut bytes.Buffer
			err := registry(context.Background(), args, &out, &errOut)
			if !errors.Is(err, cli.ErrUsage) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %v, want a usage error with %q on one line\nstderr: %s", err, tc.want, errOut.String())
			}
		})
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Errorf("the checks left files behind: %v %v", entries, err)
	}
}

// Good values pass the checks: an existing state file, untouched; -dh as a name, an IPv4
// or IPv6 address; 0 where it means "off" or "any".
func TestGoodOptionsPass(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state.json")
	const saved = `[{"name": "X", "session_id": "s", "description": null}]`
	if err := os.WriteFile(state, []byte(saved), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--state", state, "-dh", "localhost", "-dp", "0", "--dead-after", "0s"},
		{"--state", filepath.Join(dir, "new", "folder", "state.json"), "-dh", "::1", "--debugger=false"},
		{"--state", "none", "-dh", "[::1]", "--heartbeat", "0s", "--debugger=false"},
		{"--state", state, "-dh", "0.0.0.0", "-dp", "0", "--call-timeout", "100ms"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := registry(context.Background(), append(args, "--pidfile", "", "-u", dead), &out, &errOut)
			if err == nil || errors.Is(err, cli.ErrUsage) || !strings.Contains(err.Error(), "cannot reach RabbitMQ") {
				t.Errorf("got %v, want the checks to pass and the connection to fail", err)
			}
		})
	}
	if b, err := os.ReadFile(state); err != nil || string(b) != saved {
		t.Errorf("the state file changed: %q %v", b, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 { // state.json and new/
		t.Errorf("the checks left files behind: %v", entries)
	}
}

func TestCheckHost(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1": "127.0.0.1", "::": "::", "[::1]": "::1", "fe80::1": "fe80::1",
		"localhost": "localhost", "api.example.org.": "api.example.org.", "my_host-2": "my_host-2",
	} {
		if got, err := checkHost(in); err != nil || got != want {
			t.Errorf("checkHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "[]", "a..b", "-a", "a b", "host:80", "http://x", strings.Repeat("a", 64)} {
		if got, err := checkHost(bad); err == nil {
			t.Errorf("checkHost(%q) = %q, want an error", bad, got)
		}
	}
}

// A taken HTTP address stops the start (exit status 1) before the broker is even dialled.
func TestTakenAddressIsRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	p := start(t, "registry", "-u", dead, "-dp", port, "--pidfile", "")
	if code := p.Wait(stopped); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	want := "atq: debug HTTP API: 127.0.0.1:" + port + " is already in use (another atq registry, or python -m at_queue?); choose another -dp/--debugger-port, or turn the API off with --debugger=false\n"
	if p.Stderr() != want {
		t.Errorf("stderr\n got %q\nwant %q", p.Stderr(), want)
	}
}

// The exit status of a refused option is 2, with one line on stderr.
func TestBadOptionExitStatus(t *testing.T) {
	t.Parallel()
	p := start(t, "registry", "-u", dead, "--dead-after", "-3s", "--pidfile", "")
	if code := p.Wait(stopped); code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	if got := p.Stderr(); got != "atq: usage: --dead-after -3s is negative (0 turns it off)\n" {
		t.Errorf("stderr %q", got)
	}
}

// atq help registry and atq registry -h describe every option; -h exits 0.
func TestHelpNamesEveryOption(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var o registryOptions
	o.flags(fs)
	fs.VisitAll(func(f *flag.Flag) {
		name := "-" + f.Name
		if len(f.Name) > 2 {
			name = "--" + f.Name
		}
		if !strings.Contains(registryUsage, name) {
			t.Errorf("the usage text does not name %s", name)
		}
	})
	for _, args := range [][]string{{"help", "registry"}, {"registry", "-h"}} {
		p := start(t, args...)
		if code := p.Wait(stopped); code != 0 {
			t.Errorf("atq %v: exit status %d", args, code)
		}
		if got := p.Stdout() + p.Stderr(); !strings.Contains(got, "--debugger=false") || !strings.Contains(got, "--pidfile PATH") || !strings.Contains(got, "--call-timeout") {
			t.Errorf("atq %v:\n%s", args, got)
		}
	}
}

// The pidfile: the folder is created; a file that cannot be written is logged and the
// registry serves anyway; a pidfile naming another running process is taken over with a
// warning; at exit it is removed only if it still names this process; --pidfile ""
// writes nothing. --debugger=false starts no HTTP API and no inspector.
func TestPidfile(t *testing.T) {
	t.Parallel()
	url := rabbittest.VHost(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("cannot be written", func(t *testing.T) {
		p := start(t, "registry", "-u", url, "--debugger=false", "--pidfile", filepath.Join(file, "x.pid"), "--state", "none")
		p.WaitLine("registry listening on ", ready)
		p.WaitStderr("cannot write the pidfile; the registry serves anyway", 0, ready)
		if !strings.Contains(p.Stderr(), "not a directory") {
			t.Errorf("stderr does not say why:\n%s", p.Stderr())
		}
		if strings.Contains(p.Stdout(), "debug HTTP API") {
			t.Errorf("--debugger=false, yet:\n%s", p.Stdout())
		}
		sys, down := apitest.System(t, url, nil)
		h := apitest.Spawn(t, sys, component.New("Probe"))
		ctx, cancel := context.WithTimeout(context.Background(), apitest.Wait)
		defer cancel()
		raw, err := h.InspectAll(ctx)
		if err != nil || bytes.Contains(raw, []byte("inspector-")) {
			t.Errorf("--debugger=false, yet inspect_all says %s (%v)", raw, err)
		}
		down()
		stop(t, p, syscall.SIGTERM)
	})

	t.Run("taken over, and left alone when another took it", func(t *testing.T) {
		pidfile := filepath.Join(dir, "run", "atq.pid")
		if err := os.MkdirAll(filepath.Dir(pidfile), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pidfile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		p := start(t, "registry", "-u", url, "--debugger=false", "--pidfile", pidfile, "--state", "none")
		p.WaitLine("registry listening on ", ready)
		if b, err := os.ReadFile(pidfile); err != nil || string(b) != strconv.Itoa(p.Pid())+"\n" {
			t.Errorf("pidfile %q %v, want %d", b, err, p.Pid())
		}
		p.WaitStderr("the pidfile named another running process", 0, ready)
		if !strings.Contains(p.Stderr(), "other_pid="+strconv.Itoa(os.Getpid())) {
			t.Errorf("no warning about the running process the pidfile named:\n%s", p.Stderr())
		}
		const other = "4194000\n"
		if err := os.WriteFile(pidfile, []byte(other), 0o644); err != nil {
			t.Fatal(err)
		}
		stop(t, p, syscall.SIGTERM)
		if b, err := os.ReadFile(pidfile); err != nil || string(b) != other {
			t.Errorf("a pidfile another process took was changed: %q %v", b, err)
		}
	})

	t.Run("none", func(t *testing.T) {
		before, beforeErr := os.ReadFile(cli.DefaultPidfile)
		p := start(t, "registry", "-u", url, "--debugger=false", "--pidfile", "", "--state", "none", "--debug")
		p.WaitLine("registry listening on ", ready)
		after, afterErr := os.ReadFile(cli.DefaultPidfile)
		if string(after) == strconv.Itoa(p.Pid())+"\n" || string(before) != string(after) || (beforeErr == nil) != (afterErr == nil) {
			t.Errorf("--pidfile \"\" wrote %s: %q", cli.DefaultPidfile, after)
		}
		stop(t, p, syscall.SIGTERM)
		if strings.Contains(p.Stderr(), "pidfile") { // --debug logs the pidfile it writes
			t.Errorf("--pidfile \"\", yet:\n%s", p.Stderr())
		}
	})
}
