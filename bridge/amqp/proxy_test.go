package amqpbridge_test

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// proxyMode is what a proxy does with a new connection.
type proxyMode int

const (
	proxyPass   proxyMode = iota // relay to the broker
	proxyRefuse                  // close it at once (the broker is down)
	proxyHang                    // accept it and say nothing (the network is gone)
)

// proxy is a TCP relay between the transport and the broker, to cut connections and keep
// new ones from reaching the broker without touching the broker itself.
type proxy struct {
	ln       net.Listener
	upstream string

	mu    sync.Mutex
	mode  proxyMode
	conns map[net.Conn]struct{}
	dials int // connections accepted
	wg    sync.WaitGroup
}

// newProxy starts a proxy to the broker of brokerURL and returns it with the URL that goes
// through it. It stops in t.Cleanup (register it before the transport's, so that the
// transport closes first).
func newProxy(t *testing.T, brokerURL string) (*proxy, string) {
	t.Helper()
	u, err := url.Parse(brokerURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, upstream: u.Host, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.cut()
		p.wg.Wait()
	})
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.dials++
		mode := p.mode
		switch mode {
		case proxyRefuse:
			c.Close()
		case proxyHang:
			p.conns[c] = struct{}{}
		case proxyPass:
			p.conns[c] = struct{}{}
			p.wg.Add(1)
			go p.relay(c)
		}
		p.mu.Unlock()
	}
}

func (p *proxy) relay(c net.Conn) {
	defer p.wg.Done()
	up, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		p.drop(c)
		return
	}
	p.mu.Lock()
	if _, ok := p.conns[c]; !ok { // cut meanwhile
		p.mu.Unlock()
		up.Close()
		return
	}
	p.conns[up] = struct{}{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		p.drop(dst)
		p.drop(src)
	}
	go pipe(up, c)
	go pipe(c, up)
	wg.Wait()
}

func (p *proxy) drop(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

// cut closes every connection through the proxy, as a network failure or a broker crash
// would.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *proxy) setMode(m proxyMode) {
	p.mu.Lock()
	p.mode = m
	p.mu.Unlock()
}

// accepted is the number of connections accepted so far.
func (p *proxy) accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dials
}
