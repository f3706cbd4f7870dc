package faults_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/at-technology/atqueue/internal/testkit/proctest"
)

// node is a RabbitMQ node of the test's own: its own node name, AMQP and distribution
// ports, data, logs, configuration and Erlang cookie, all in a temporary folder, so that
// stopping it disturbs no other test.
type node struct {
	t    *testing.T
	name string // Erlang node name, e.g. atqfault-1a2b3c4d@localhost
	url  string // amqp://guest:guest@127.0.0.1:<port>/
	dir  string
	bin  string // folder of rabbitmq-server and rabbitmqctl
	env  []string
	cmd  *exec.Cmd
	done chan struct{} // closed when the rabbitmq-server script has exited
}

// Bounds measured on the 2-core machines: the node boots in about 4 s, stop_app takes
// about 0.5 s and start_app about 1 s.
const (
	nodeBoot = 90 * time.Second
	nodeCtl  = 60 * time.Second
)

// startNode boots a node on free ports and waits until its applications run; t.Cleanup
// stops it and waits for it.
func startNode(t *testing.T) *node {
	t.Helper()
	bin, err := rabbitBin()
	if err != nil {
		t.Fatalf("own RabbitMQ node: %v", err)
	}
	n := &node{t: t, bin: bin, dir: t.TempDir(), done: make(chan struct{})}
	n.name = "atqfault-" + randomHex(4) + "@localhost"
	amqpPort, distPort := freePort(t), freePort(t)
	for distPort == amqpPort {
		distPort = freePort(t)
	}
	n.url = fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d/", amqpPort)
	for _, f := range []string{"rabbitmq-env.conf", "rabbitmq.conf", "enabled_plugins"} {
		if err := os.WriteFile(filepath.Join(n.dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Written before anything starts, so that the server and rabbitmqctl do not race to
	// create different cookies.
	if err := os.WriteFile(filepath.Join(n.dir, ".erlang.cookie"), []byte(strings.ToUpper(randomHex(10))), 0o400); err != nil {
		t.Fatal(err)
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "RABBITMQ_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "ERL_") {
			n.env = append(n.env, kv)
		}
	}
	n.env = append(n.env,
		"HOME="+n.dir, // the Erlang cookie of the node and of rabbitmqctl
		"RABBITMQ_CONF_ENV_FILE="+filepath.Join(n.dir, "rabbitmq-env.conf"),
		"RABBITMQ_CONFIG_FILE="+filepath.Join(n.dir, "rabbitmq.conf"),
		"RABBITMQ_ADVANCED_CONFIG_FILE="+filepath.Join(n.dir, "advanced.config"),
		"RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(n.dir, "enabled_plugins"),
		"RABBITMQ_NODENAME="+n.name,
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_NODE_PORT="+strconv.Itoa(amqpPort),
		"RABBITMQ_DIST_PORT="+strconv.Itoa(distPort),
		"RABBITMQ_MNESIA_BASE="+filepath.Join(n.dir, "mnesia"),
		"RABBITMQ_LOG_BASE="+filepath.Join(n.dir, "log"),
		"RABBITMQ_PID_FILE="+filepath.Join(n.dir, "pid"),
	)
	out, err := os.Create(filepath.Join(n.dir, "server.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	n.cmd = exec.Command(filepath.Join(bin, "rabbitmq-server"))
	n.cmd.Env, n.cmd.Dir, n.cmd.Stdout, n.cmd.Stderr = n.env, n.dir, out, out
	t0 := time.Now()
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("own RabbitMQ node: starting %s: %v", n.cmd.Path, err)
	}
	go func() {
		_ = n.cmd.Wait()
		close(n.done)
	}()
	t.Cleanup(n.shutdown)
	// wait: until the pid file appears, then until the node's applications run.
	if out, err := n.ctl(nodeBoot, "wait", "--timeout", strconv.Itoa(int(nodeBoot/time.Second)), filepath.Join(n.dir, "pid")); err != nil {
		t.Fatalf("own RabbitMQ node %s did not start within %v: %v\n%s\nserver output:\n%s", n.name, nodeBoot, err, out, n.serverOutput())
	}
	t.Logf("own RabbitMQ node %s on 127.0.0.1:%d started in %v", n.name, amqpPort, time.Since(t0).Round(time.Millisecond))
	return n
}

// ctl runs rabbitmqctl -n <node> args within timeout.
func (n *node) ctl(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(n.bin, "rabbitmqctl"), append([]string{"-n", n.name}, args...)...)
	cmd.Env, cmd.Dir = n.env, n.dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustCtl runs rabbitmqctl and fails the test when it fails.
func (n *node) mustCtl(args ...string) {
	n.t.Helper()
	t0 := time.Now()
	if out, err := n.ctl(nodeCtl, args...); err != nil {
		n.t.Fatalf("rabbitmqctl -n %s %s: %v\n%s", n.name, strings.Join(args, " "), err, out)
	}
	n.t.Logf("rabbitmqctl %s: %v", strings.Join(args, " "), time.Since(t0).Round(time.Millisecond))
}

// shutdown stops the node and waits for it; when rabbitmqctl cannot stop it, the Erlang
// VM (whose pid the node wrote) and the script we started are killed by pid.
func (n *node) shutdown() {
	if out, err := n.ctl(nodeCtl, "stop", filepath.Join(n.dir, "pid")); err != nil {
		n.t.Logf("rabbitmqctl stop of own node %s: %v\n%s", n.name, err, out)
		if b, err := os.ReadFile(filepath.Join(n.dir, "pid")); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				if p, err := os.FindProcess(pid); err == nil {
					_ = p.Kill()
				}
			}
		}
		_ = n.cmd.Process.Kill()
	}
	select {
	case <-n.done:
	case <-time.After(nodeCtl):
		n.t.Errorf("own RabbitMQ node %s: rabbitmq-server (pid %d) did not exit", n.name, n.cmd.Process.Pid)
	}
}

func (n *node) serverOutput() string {
	b, _ := os.ReadFile(filepath.Join(n.dir, "server.out"))
	return proctest.Tail(string(b), 40)
}

// rabbitBin finds the folder of rabbitmq-server: $RABBITMQ_SERVER's, then Debian's
// /usr/lib/rabbitmq/bin (the /usr/sbin wrappers switch to the rabbitmq user, who cannot
// read the test's folder), then $PATH's.
func rabbitBin() (string, error) {
	if p := os.Getenv("RABBITMQ_SERVER"); p != "" {
		return filepath.Dir(p), nil
	}
	if _, err := os.Stat("/usr/lib/rabbitmq/bin/rabbitmq-server"); err == nil {
		return "/usr/lib/rabbitmq/bin", nil
	}
	p, err := exec.LookPath("rabbitmq-server")
	if err != nil {
		return "", fmt.Errorf("rabbitmq-server not found (set RABBITMQ_SERVER, or apt-get install rabbitmq-server): %w", err)
	}
	return filepath.Dir(p), nil
}

// freePort is a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
