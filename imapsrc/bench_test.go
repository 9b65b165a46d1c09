package imapsrc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// bigMessage describes a generated message: a text part and a base64 attachment, about
// size bytes in all, produced on the fly so that the server holds none of it.
type bigMessage struct {
	lines int
	stall bool // stop sending (but keep the connection) halfway through the body
}

const (
	bigHead = "From: big@example.com\r\nSubject: big\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"BIG\"\r\n\r\n--BIG\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n" +
		"--BIG\r\nContent-Type: application/octet-stream; name=\"big.bin\"\r\nContent-Disposition: attachment; filename=\"big.bin\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n"
	bigLine = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n" // 76 + CRLF
	bigTail = "--BIG--\r\n"
)

func newBigMessage(size int) bigMessage { return bigMessage{lines: size / len(bigLine)} }

func (m bigMessage) size() int64 {
	return int64(len(bigHead)) + int64(m.lines)*int64(len(bigLine)) + int64(len(bigTail))
}

// decoded is the attachment's decoded size (57 bytes per line).
func (m bigMessage) decoded() int64 { return int64(m.lines) * 57 }

func (m bigMessage) writeTo(w io.Writer) error {
	if _, err := io.WriteString(w, bigHead); err != nil {
		return err
	}
	block := []byte(strings.Repeat(bigLine, 512))
	left := m.lines
	for left > 0 {
		if m.stall && left < m.lines/2 {
			if f, ok := w.(interface{ Flush() error }); ok {
				f.Flush()
			}
			time.Sleep(time.Minute)
			return io.ErrClosedPipe
		}
		n := min(left, 512)
		if _, err := w.Write(block[:n*len(bigLine)]); err != nil {
			return err
		}
		left -= n
	}
	_, err := io.WriteString(w, bigTail)
	return err
}

// streamServer is a minimal IMAP server holding one generated message (UID 1).
func streamServer(tb testing.TB, msg bigMessage) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serveStream(conn, msg)
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func serveStream(conn net.Conn, msg bigMessage) {
	defer conn.Close()
	br := bufio.NewReader(conn)
	bw := bufio.NewWriterSize(conn, 64<<10)
	out := func(s string) { _, _ = bw.WriteString(s) }
	out("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR UIDPLUS MOVE IDLE] stream server ready\r\n")
	_ = bw.Flush()
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		tag, cmd := f[0], strings.ToUpper(f[1])
		switch {
		case cmd == "CAPABILITY":
			out("* CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR UIDPLUS MOVE IDLE\r\n" + tag + " OK done\r\n")
		case cmd == "AUTHENTICATE" || cmd == "LOGIN":
			out(tag + " OK [CAPABILITY IMAP4rev1 UIDPLUS MOVE IDLE] signed in\r\n")
		case cmd == "SELECT":
			out("* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 2] ok\r\n" + tag + " OK [READ-WRITE] done\r\n")
		case cmd == "UID" && strings.Contains(strings.ToUpper(line), "BODY.PEEK[]"):
			out(fmt.Sprintf("* 1 FETCH (UID 1 BODY[] {%d}\r\n", msg.size()))
			if msg.writeTo(bw) != nil {
				return
			}
			out(")\r\n" + tag + " OK done\r\n")
		case cmd == "UID":
			out(fmt.Sprintf("* 1 FETCH (UID 1 RFC822.SIZE %d FLAGS () INTERNALDATE \"28-Nov-2026 10:00:00 +0000\" "+
				"ENVELOPE (\"Sat, 28 Nov 2026 10:00:00 +0000\" \"big\" ((NIL NIL \"big\" \"example.com\")) NIL NIL NIL NIL NIL NIL \"<big@x>\"))\r\n", msg.size()) +
				tag + " OK done\r\n")
		case cmd == "LOGOUT":
			out("* BYE\r\n" + tag + " OK bye\r\n")
			_ = bw.Flush()
			return
		default:
			out(tag + " OK done\r\n")
		}
		if err := bw.Flush(); err != nil {
			return
		}
	}
}

// fetchAndWalk fetches UID 1 and streams each part to io.Discard; it returns the
// attachment's decoded size.
func fetchAndWalk(ctx context.Context, c *Client) (int64, error) {
	var n int64
	err := c.Fetch(ctx, 1, func(m *Message) error {
		_, err := WalkParts(m.Body, func(p *Part) error {
			k, err := io.Copy(io.Discard, p.Body)
			if p.IsAttachment {
				n += k
			}
			return err
		})
		return err
	})
	return n, err
}

// BenchmarkFetchLarge streams a 200 MB message through Fetch and WalkParts and reports
// the bytes allocated per message and the peak heap: both must stay far below the
// message's size (memory does not grow with message size).
func BenchmarkFetchLarge(b *testing.B) {
	msg := newBigMessage(200 << 20)
	port := streamServer(b, msg)
	ctx := context.Background()
	c, err := Dial(ctx, Config{Host: "127.0.0.1", Port: port, TLS: tlsNone, Auth: authPassword, Username: "u",
		Password: "p", Timeout: 30 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > peak.Load() {
					peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	b.SetBytes(msg.size())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n, err := fetchAndWalk(ctx, c)
		if err != nil {
			b.Fatal(err)
		}
		if n != msg.decoded() {
			b.Fatalf("attachment %d bytes, want %d", n, msg.decoded())
		}
	}
	b.StopTimer()
	close(stop)
	<-sampled
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/(1<<20), "alloc-MB/op")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(msg.size())/(1<<20), "message-MB")
}

// A smaller run of the same path as a test, so `go test` checks streaming works.
func TestFetchStreamsLargeMessage(t *testing.T) {
	msg := newBigMessage(8 << 20)
	port := streamServer(t, msg)
	c, err := Dial(ctxT(t), Config{Host: "127.0.0.1", Port: port, TLS: tlsNone, Auth: authPassword, Username: "u",
		Password: "p", Timeout: 10 * time.Second, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n, err := fetchAndWalk(ctxT(t), c)
	if err != nil || n != msg.decoded() {
		t.Fatalf("got %d bytes, %v; want %d", n, err, msg.decoded())
	}
}

// A server that stops sending in the middle of a message, and a cancelled context, both
// end Fetch promptly.
func TestFetchStallAndCancel(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stall  bool
		cancel bool
	}{{"stalled server", true, false}, {"cancelled", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			msg := newBigMessage(64 << 20)
			msg.stall = tc.stall
			port := streamServer(t, msg)
			c, err := Dial(ctxT(t), Config{Host: "127.0.0.1", Port: port, TLS: tlsNone, Auth: authPassword, Username: "u",
				Password: "p", Timeout: 500 * time.Millisecond, Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithCancel(ctxT(t))
			defer cancel()
			start := time.Now()
			err = c.Fetch(ctx, 1, func(m *Message) error {
				buf := make([]byte, 1<<20)
				for {
					if _, err := m.Body.Read(buf); err != nil {
						return err
					}
					if tc.cancel {
						cancel()
					}
					// Slow work between reads does not count against the timeout.
					time.Sleep(time.Millisecond)
				}
			})
			if took := time.Since(start); took > 10*time.Second {
				t.Fatalf("Fetch took %s", took)
			}
			if tc.cancel && !errors.Is(err, context.Canceled) {
				t.Errorf("got %v, want context.Canceled", err)
			}
			if tc.stall && (KindOf(err) != KindNetwork || !strings.Contains(err.Error(), "did not answer")) {
				t.Errorf("got %v (kind %v), want a network timeout", err, KindOf(err))
			}
		})
	}
}
