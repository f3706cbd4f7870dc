package proxy_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/at-technology/atqueue/internal/testkit/proxy"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// echo is a line echo server standing in for the broker; it counts the connections it got.
type echo struct {
	ln       net.Listener
	accepted atomic.Int32
	wg       sync.WaitGroup
}

func newEcho(t *testing.T) *echo {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echo{ln: ln}
	var mu sync.Mutex
	var conns []net.Conn
	e.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			e.accepted.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			e.wg.Go(func() { _, _ = io.Copy(c, c) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		e.wg.Wait()
	})
	return e
}

func (e *echo) url() string { return "amqp://guest:guest@" + e.ln.Addr().String() + "/vhost" }

// dial connects to the proxy's address; the connection is closed when the test ends.
func dial(t *testing.T, p *proxy.Proxy) net.Conn {
	t.Helper()
	u, err := url.Parse(p.URL())
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return c
}

// roundTrip sends a line and requires it back.
func roundTrip(t *testing.T, c net.Conn) {
	t.Helper()
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "ping\n" {
		t.Fatalf("read %q, %v; want the echo", line, err)
	}
}

// requireClosed requires c to be closed by the other side (EOF or reset), not to time out.
func requireClosed(t *testing.T, c net.Conn) {
	t.Helper()
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	if err == nil || errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("read: %v; want the connection closed", err)
	}
}

func TestURLKeepsAllButTheAddress(t *testing.T) {
	e := newEcho(t)
	p := proxy.New(t, e.url())
	got, err := url.Parse(p.URL())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := url.Parse(e.url())
	if got.Host == want.Host || got.User.String() != want.User.String() || got.Path != want.Path {
		t.Fatalf("URL() = %q for %q: want another host:port, the same user and virtual host", got, want)
	}
}

func TestPassCutAndPassAgain(t *testing.T) {
	e := newEcho(t)
	p := proxy.New(t, e.url())
	c := dial(t, p)
	roundTrip(t, c)
	if n := p.Cut(); n != 1 {
		t.Errorf("Cut() = %d, want 1", n)
	}
	requireClosed(t, c)
	roundTrip(t, dial(t, p)) // it keeps accepting after a cut
	if n := p.Accepted(); n != 2 {
		t.Errorf("Accepted() = %d, want 2", n)
	}
}

func TestRefuse(t *testing.T) {
	e := newEcho(t)
	p := proxy.New(t, e.url())
	p.SetMode(proxy.Refuse)
	requireClosed(t, dial(t, p))
	if n := p.Accepted(); n != 1 {
		t.Errorf("Accepted() = %d, want 1", n)
	}
	p.SetMode(proxy.Pass)
	roundTrip(t, dial(t, p))
}

func TestHangUntilCut(t *testing.T) {
	e := newEcho(t)
	p := proxy.New(t, e.url())
	p.SetMode(proxy.Hang)
	c := dial(t, p)
	if _, err := io.WriteString(c, "ping\n"); err != nil {
		t.Fatal(err)
	}
	// The dial returns once the kernel has the connection; the proxy's accept loop may
	// not have taken it yet.
	for deadline := time.Now().Add(5 * time.Second); p.Accepted() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the proxy did not accept the connection within 5s")
		}
	}
	if n := p.Cut(); n != 1 {
		t.Errorf("Cut() = %d, want 1", n)
	}
	requireClosed(t, c) // closed by the cut, without an echo
	if n := e.accepted.Load(); n != 0 {
		t.Errorf("the broker got %d connections from a hanging proxy, want 0", n)
	}
}
