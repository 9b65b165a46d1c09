package bench

import (
	"io"
	"net"
	"os"
	"testing"
	"time"
)

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }

// server answers one byte from the client with size bytes, then closes.
func server(t *testing.T, size int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				one := make([]byte, 1)
				if _, err := io.ReadFull(c, one); err != nil {
					return
				}
				c.Write(make([]byte, size))
			}()
		}
	}()
	return ln.Addr().String()
}

func TestProxyPassesThrough(t *testing.T) {
	p, err := NewProxy(server(t, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte{1})
	n, err := io.Copy(io.Discard, c)
	if err != nil || n != 1<<20 {
		t.Fatalf("read %d bytes (%v), want %d", n, err, 1<<20)
	}
	if cuts, total := p.Cuts(); cuts != 0 || total != 1 {
		t.Fatalf("Cuts() = %d, %d; want 0, 1", cuts, total)
	}
}

func TestProxyCutsAtTheOffset(t *testing.T) {
	for _, cutAt := range []int64{1, 12345, 32 << 10, 500_001} {
		p, err := NewProxy(server(t, 1<<20))
		if err != nil {
			t.Fatal(err)
		}
		c, err := net.Dial("tcp", p.ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		cut := make(chan bool, 1)
		go func() { cut <- p.CutAfter(cutAt, 5*time.Second) }()
		// Let the cut be armed before the server starts sending.
		armed := time.Now().Add(5 * time.Second)
		for {
			p.mu.Lock()
			ok := len(p.conns) == 1 && p.conns[0].cutAt != 0
			p.mu.Unlock()
			if ok {
				break
			}
			if time.Now().After(armed) {
				t.Fatal("the cut was never armed")
			}
			time.Sleep(time.Millisecond)
		}
		c.Write([]byte{1})
		// The cut ends with a reset, which may drop what the client has not read yet:
		// it sees at most cutAt bytes, then an error or EOF.
		n, _ := io.Copy(io.Discard, c)
		if n > cutAt {
			t.Errorf("cut at %d: the client got %d bytes", cutAt, n)
		}
		select {
		case ok := <-cut:
			if !ok {
				t.Errorf("cut at %d: CutAfter reported no cut", cutAt)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("CutAfter did not return")
		}
		c.Close()
		p.Close()
	}
}

func TestProxyRateLimit(t *testing.T) {
	p, err := NewProxy(server(t, 300_000))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.SetRate(1_000_000) // 300 KB at 1 MB/s: at least ~0.25 s (the first chunk is free)
	c, err := net.Dial("tcp", p.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	c.Write([]byte{1})
	n, err := io.Copy(io.Discard, c)
	if err != nil || n != 300_000 {
		t.Fatalf("read %d bytes (%v)", n, err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("300 KB at 1 MB/s took %v", d)
	}
}

func TestPercentileHelpers(t *testing.T) {
	m := &Manifest{}
	m.add(MessageInfo{Size: 10, Attachments: []Attachment{{Size: 3}, {Size: 4}}})
	if m.TotalBytes != 10 || m.TotalAtt != 2 || m.AttBytes != 7 {
		t.Fatalf("add: %+v", m)
	}
}
