package bench

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// Proxy is a TCP proxy on loopback in front of the IMAP server that can cut the live
// connection after a chosen number of further bytes from the server (TLS passes through
// untouched: the client still verifies the server's certificate).
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns []*proxyConn // live, oldest first
	cuts  int
	total int
	rate  int64 // server → client bytes per second per connection (0: unlimited)
	bytes int64 // server → client bytes over all connections
	wg    sync.WaitGroup
}

// BytesDown is how many bytes the server has sent through the proxy so far.
func (p *Proxy) BytesDown() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bytes
}

// SetRate caps each connection's server → client bytes per second (0: no cap).
func (p *Proxy) SetRate(bytesPerSec int64) {
	p.mu.Lock()
	p.rate = bytesPerSec
	p.mu.Unlock()
}

type proxyConn struct {
	client, server net.Conn
	down           int64 // bytes sent server → client
	cutAt          int64 // cut when down reaches this (0: never)
	cut            chan struct{}
	once           sync.Once
}

func (c *proxyConn) close() {
	c.once.Do(func() {
		c.client.Close()
		c.server.Close()
	})
}

// NewProxy listens on 127.0.0.1 (a free port) and forwards to target.
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Port is the port the proxy listens on.
func (p *Proxy) Port() int { return p.ln.Addr().(*net.TCPAddr).Port }

// Close stops the proxy and every connection through it.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

// Cuts returns how many connections were cut, and how many were made.
func (p *Proxy) Cuts() (cuts, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cuts, p.total
}

// CutAfter arms a cut of the newest live connection once the server has sent it extra
// more bytes, and waits up to timeout for it. It reports whether a connection was cut.
func (p *Proxy) CutAfter(extra int64, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	var c *proxyConn
	for c == nil {
		p.mu.Lock()
		if n := len(p.conns); n > 0 {
			c = p.conns[n-1]
			c.cutAt = c.down + max(extra, 1)
		}
		p.mu.Unlock()
		if c == nil {
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	select {
	case <-c.cut:
		return true
	case <-time.After(time.Until(deadline)):
		p.mu.Lock()
		c.cutAt = 0
		p.mu.Unlock()
		return false
	}
}

// CutAll closes every live connection at once (as a server going down does) and returns
// how many there were. They are not counted as cuts.
func (p *Proxy) CutAll() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		if tc, ok := c.client.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.close()
	}
	return len(p.conns)
}

// CutNow closes the newest live connection at once; false when there is none.
func (p *Proxy) CutNow() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.conns)
	if n == 0 {
		return false
	}
	c := p.conns[n-1]
	if tc, ok := c.client.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.close()
	p.cuts++
	return true
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		cc, err := p.ln.Accept()
		if err != nil {
			return
		}
		sc, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			cc.Close() // the server is down: the client sees the connection refused/closed
			continue
		}
		c := &proxyConn{client: cc, server: sc, cut: make(chan struct{})}
		p.mu.Lock()
		p.conns = append(p.conns, c)
		p.total++
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { // client → server
			defer p.wg.Done()
			io.Copy(sc, cc)
			c.close()
		}()
		go func() { // server → client, counted and cut
			defer p.wg.Done()
			p.down(c)
			c.close()
			p.mu.Lock()
			for i, x := range p.conns {
				if x == c {
					p.conns = append(p.conns[:i], p.conns[i+1:]...)
					break
				}
			}
			p.mu.Unlock()
		}()
	}
}

func (p *Proxy) down(c *proxyConn) {
	buf := make([]byte, 32<<10)
	start := time.Now()
	for {
		n, err := c.server.Read(buf)
		if n > 0 {
			p.mu.Lock()
			cutAt, down, rate := c.cutAt, c.down, p.rate
			p.mu.Unlock()
			if rate > 0 {
				// Pace: the bytes sent so far may not run ahead of rate.
				if ahead := time.Duration(float64(down)/float64(rate)*float64(time.Second)) - time.Since(start); ahead > 0 {
					time.Sleep(ahead)
				}
			}
			send := buf[:n]
			cut := false
			if cutAt > 0 && down+int64(n) >= cutAt {
				send, cut = buf[:cutAt-down], true
			}
			if _, werr := c.client.Write(send); werr != nil {
				return
			}
			p.mu.Lock()
			c.down += int64(len(send))
			p.bytes += int64(len(send))
			if cut {
				p.cuts++
			}
			p.mu.Unlock()
			if cut {
				// An abrupt end, as a dropped link: RST where the OS allows.
				if tc, ok := c.client.(*net.TCPConn); ok {
					tc.SetLinger(0)
				}
				close(c.cut)
				return
			}
		}
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && err != io.EOF {
				return
			}
			return
		}
	}
}
