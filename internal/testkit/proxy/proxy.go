package proxy

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Mode is what the proxy does with a new connection.
type Mode int

const (
	Pass   Mode = iota // relay it to the broker (the default)
	Refuse             // close it at once, as a broker that is down does
	Hang               // keep it open and say nothing, as a network that is gone does
)

// dialTimeout bounds the proxy's own connection to the broker.
const dialTimeout = 5 * time.Second

// Proxy forwards TCP connections from a port of 127.0.0.1 to the broker. It keeps
// accepting after Cut: clients that reconnect get through again (in Mode Pass). Its
// methods are safe for concurrent use.
type Proxy struct {
	ln     net.Listener
	target string // host:port of the broker
	url    string

	mu       sync.Mutex
	mode     Mode
	clients  map[net.Conn]net.Conn // client → its broker side (nil until dialled, or hanging)
	accepted int
	closed   bool

	wg sync.WaitGroup // the accept loop and every relay
}

// New starts a proxy on a free port of 127.0.0.1 to the host and port of brokerURL
// (amqp://user:password@host:port/vhost); URL is brokerURL through it. It is closed in
// t.Cleanup.
func New(t testing.TB, brokerURL string) *Proxy {
	t.Helper()
	u, err := url.Parse(brokerURL)
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := &Proxy{ln: ln, target: u.Host, clients: map[net.Conn]net.Conn{}}
	u.Host = ln.Addr().String()
	p.url = u.String()
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// URL is the broker's URL with the proxy's host and port.
func (p *Proxy) URL() string { return p.url }

// SetMode sets what happens to the connections accepted from now on.
func (p *Proxy) SetMode(m Mode) {
	p.mu.Lock()
	p.mode = m
	p.mu.Unlock()
}

// Accepted is the number of client connections accepted so far, in any mode.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Cut closes every connection through the proxy at once, as a network failure or a broker
// crash would, and returns how many client connections there were.
func (p *Proxy) Cut() int {
	p.mu.Lock()
	all := p.clients
	p.clients = map[net.Conn]net.Conn{}
	p.mu.Unlock()
	for c, up := range all {
		_ = c.Close()
		if up != nil {
			_ = up.Close()
		}
	}
	return len(all)
}

// close stops accepting, cuts every connection and waits for the proxy's goroutines.
func (p *Proxy) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	_ = p.ln.Close()
	p.Cut()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		p.mu.Lock()
		p.accepted++
		switch {
		case p.closed || p.mode == Refuse:
			_ = c.Close()
		case p.mode == Hang:
			p.clients[c] = nil
		default:
			p.clients[c] = nil
			p.wg.Add(1)
			go p.relay(c)
		}
		p.mu.Unlock()
	}
}

// relay dials the broker for client c and copies both ways until either side ends, then
// closes both.
func (p *Proxy) relay(c net.Conn) {
	defer p.wg.Done()
	up, err := net.DialTimeout("tcp", p.target, dialTimeout)
	if err != nil {
		p.drop(c)
		return
	}
	p.mu.Lock()
	if _, ok := p.clients[c]; !ok { // cut meanwhile
		p.mu.Unlock()
		_ = up.Close()
		return
	}
	p.clients[c] = up
	p.mu.Unlock()
	var wg sync.WaitGroup
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		_ = dst.Close()
		_ = src.Close()
	}
	wg.Go(func() { pipe(up, c) })
	wg.Go(func() { pipe(c, up) })
	wg.Wait()
	p.drop(c)
}

// drop forgets client c and closes both its sides.
func (p *Proxy) drop(c net.Conn) {
	p.mu.Lock()
	up := p.clients[c]
	delete(p.clients, c)
	p.mu.Unlock()
	_ = c.Close()
	if up != nil {
		_ = up.Close()
	}
}
