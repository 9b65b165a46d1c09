package imapsrc

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// batchServer is a minimal IMAP server for FetchBatch: messages by UID, with faults in
// the body command.
type batchServer struct {
	t    testing.TB
	uids []uint32
	raw  map[uint32][]byte

	mu       sync.Mutex
	order    func([]uint32) []uint32 // order of the bodies (nil: as asked)
	goneBody map[uint32]bool         // expunged after the envelopes: no body sent
	failUID  uint32                  // no body, and the command ends with NO
	cutUID   uint32                  // the connection is closed inside this body…
	cutAt    int                     // …after this many bytes of it
	stallUID uint32                  // the server stops sending inside this body
	bodySets []string                // the UID sets of the body commands
	conns    int
}

func newBatchServer(t testing.TB, n int, size func(uid uint32) int) *batchServer {
	s := &batchServer{t: t, raw: map[uint32][]byte{}, goneBody: map[uint32]bool{}}
	for i := 1; i <= n; i++ {
		uid := uint32(i * 10) // not sequence numbers
		s.uids = append(s.uids, uid)
		s.raw[uid] = batchMail(uid, size(uid))
	}
	return s
}

// batchMail is a message whose subject and body name its UID.
func batchMail(uid uint32, size int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: sender%d@example.com\r\nSubject: message %d\r\nMessage-ID: <%d@test>\r\n\r\n", uid, uid, uid)
	line := fmt.Sprintf("body of message %d ", uid)
	for b.Len() < size {
		b.WriteString(line + "\r\n")
	}
	return []byte(b.String())
}

func (s *batchServer) start() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns++
			s.mu.Unlock()
			go s.serve(conn)
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// parseUIDSet reads "1:3,5" (the sets go-imap sends).
func parseUIDSet(set string) []uint32 {
	var out []uint32
	for _, r := range strings.Split(set, ",") {
		lo, hi, ok := strings.Cut(r, ":")
		a, _ := strconv.ParseUint(lo, 10, 32)
		b := a
		if ok {
			b, _ = strconv.ParseUint(hi, 10, 32)
		}
		for u := a; u <= b; u++ {
			out = append(out, uint32(u))
		}
	}
	return out
}

func (s *batchServer) seq(uid uint32) int { return slices.Index(s.uids, uid) + 1 }

func (s *batchServer) serve(conn net.Conn) {
	defer conn.Close()
	br := bufio.NewReader(conn)
	bw := bufio.NewWriterSize(conn, 64<<10)
	out := func(f string, a ...any) { fmt.Fprintf(bw, f, a...) }
	out("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR UIDPLUS MOVE IDLE] batch server ready\r\n")
	bw.Flush()
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
			out("* CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR UIDPLUS MOVE IDLE\r\n%s OK done\r\n", tag)
		case cmd == "AUTHENTICATE" || cmd == "LOGIN":
			out("%s OK [CAPABILITY IMAP4rev1 UIDPLUS MOVE IDLE] signed in\r\n", tag)
		case cmd == "SELECT":
			out("* %d EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 1000] ok\r\n%s OK [READ-WRITE] done\r\n", len(s.uids), tag)
		case cmd == "UID" && len(f) >= 4 && strings.EqualFold(f[2], "FETCH"):
			asked := parseUIDSet(f[3])
			if strings.Contains(strings.ToUpper(line), "BODY.PEEK[]") {
				if !s.bodies(bw, tag, f[3], asked) {
					return
				}
				break
			}
			for _, uid := range asked {
				raw, ok := s.raw[uid]
				if !ok {
					continue // expunged: not sent, as Dovecot does
				}
				out("* %d FETCH (UID %d RFC822.SIZE %d FLAGS () INTERNALDATE \"28-Nov-2026 10:00:00 +0000\" "+
					"ENVELOPE (\"Sat, 28 Nov 2026 10:00:00 +0000\" \"message %d\" ((NIL NIL \"sender%d\" \"example.com\")) NIL NIL NIL NIL NIL NIL \"<%d@test>\"))\r\n",
					s.seq(uid), uid, len(raw), uid, uid, uid)
			}
			out("%s OK done\r\n", tag)
		case cmd == "LOGOUT":
			out("* BYE\r\n%s OK bye\r\n", tag)
			bw.Flush()
			return
		default:
			out("%s OK done\r\n", tag)
		}
		if err := bw.Flush(); err != nil {
			return
		}
	}
}

// bodies answers a body command; false when the connection is to be closed.
func (s *batchServer) bodies(bw *bufio.Writer, tag, set string, asked []uint32) bool {
	s.mu.Lock()
	s.bodySets = append(s.bodySets, set)
	order, failUID := s.order, s.failUID
	s.mu.Unlock()
	if order != nil {
		asked = order(asked)
	}
	failed := false
	for _, uid := range asked {
		raw, ok := s.raw[uid]
		if !ok || s.goneBody[uid] {
			continue
		}
		if uid == failUID {
			failed = true
			continue
		}
		fmt.Fprintf(bw, "* %d FETCH (UID %d BODY[] {%d}\r\n", s.seq(uid), uid, len(raw))
		switch uid {
		case s.cutUID:
			bw.Write(raw[:s.cutAt])
			bw.Flush()
			return false
		case s.stallUID:
			bw.Write(raw[:len(raw)/2])
			bw.Flush()
			time.Sleep(30 * time.Second)
			return false
		}
		bw.Write(raw)
		bw.WriteString(")\r\n")
	}
	if failed {
		fmt.Fprintf(bw, "%s NO [SERVERBUG] Some messages could not be FETCHed\r\n", tag)
	} else {
		fmt.Fprintf(bw, "%s OK done\r\n", tag)
	}
	return true
}

func (s *batchServer) dial(t *testing.T, timeout time.Duration) *Client {
	t.Helper()
	c, err := Dial(ctxT(t), Config{Host: "127.0.0.1", Port: s.start(), TLS: tlsNone, Auth: authPassword,
		Username: "u", Password: "p", Timeout: timeout, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// closeSoon closes c and fails the test when that hangs.
func closeSoon(t *testing.T, c *Client) {
	t.Helper()
	done := make(chan struct{})
	go func() { c.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung")
	}
}

// got is what a FetchBatch handed out: per UID the body read (or the read error).
type got struct {
	order []uint32
	body  map[uint32][]byte
	err   map[uint32]error
	env   map[uint32]Envelope
}

func collect(c *Client, ctx context.Context, uids []uint32, want func(*Message) bool, each func(*Message)) (*got, error) {
	g := &got{body: map[uint32][]byte{}, err: map[uint32]error{}, env: map[uint32]Envelope{}}
	err := c.FetchBatch(ctx, uids, want, func(m *Message) error {
		g.order = append(g.order, m.UID)
		g.env[m.UID] = m.Envelope
		b, err := io.ReadAll(m.Body)
		g.body[m.UID], g.err[m.UID] = b, err
		if each != nil {
			each(m)
		}
		return nil
	})
	return g, err
}

func small(uint32) int { return 2000 }

// Bodies come in the server's order, each with its envelope; unwanted messages are not
// body-fetched; expunged ones are simply absent.
func TestFetchBatchOrderFilterAndExpunged(t *testing.T) {
	s := newBatchServer(t, 6, small)
	delete(s.raw, 20)     // expunged before the batch
	s.goneBody[40] = true // expunged between the envelopes and the bodies
	s.order = func(u []uint32) []uint32 { u = slices.Clone(u); slices.Reverse(u); return u }
	c := s.dial(t, 10*time.Second)
	defer closeSoon(t, c)
	var asked []uint32
	want := func(m *Message) bool {
		if m.Body != nil {
			t.Errorf("want got a body for UID %d", m.UID)
		}
		asked = append(asked, m.UID)
		return m.UID != 30
	}
	g, err := collect(c, ctxT(t), []uint32{10, 20, 30, 40, 50, 60}, want, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(asked, []uint32{10, 30, 40, 50, 60}) {
		t.Errorf("want asked for %v", asked)
	}
	if !slices.Equal(g.order, []uint32{60, 50, 10}) {
		t.Errorf("fn order %v, want [60 50 10]", g.order)
	}
	for _, uid := range g.order {
		if !bytes.Equal(g.body[uid], s.raw[uid]) || g.err[uid] != nil {
			t.Errorf("UID %d: %d bytes, %v", uid, len(g.body[uid]), g.err[uid])
		}
		if g.env[uid].Subject != fmt.Sprintf("message %d", uid) || g.env[uid].From != fmt.Sprintf("sender%d@example.com", uid) {
			t.Errorf("UID %d: envelope %+v", uid, g.env[uid])
		}
	}
	if len(s.bodySets) != 1 || slices.Contains(parseUIDSet(s.bodySets[0]), 30) || slices.Contains(parseUIDSet(s.bodySets[0]), 20) {
		t.Errorf("body commands %v: want one, without 20 and 30", s.bodySets)
	}
	// The connection goes on.
	if g, err := collect(c, ctxT(t), []uint32{50}, nil, nil); err != nil || len(g.order) != 1 {
		t.Errorf("second batch: %v, %v", g.order, err)
	}
}

// The server refuses one message (NO at the end): the others are handed out, the error
// is KindServer, and the connection stays usable.
func TestFetchBatchServerErrorForOneUID(t *testing.T) {
	s := newBatchServer(t, 4, small)
	s.failUID = 20
	c := s.dial(t, 10*time.Second)
	defer closeSoon(t, c)
	g, err := collect(c, ctxT(t), s.uids, nil, nil)
	if KindOf(err) != KindServer || !strings.Contains(err.Error(), "could not be FETCHed") {
		t.Fatalf("got %v (kind %v), want a server error", err, KindOf(err))
	}
	if !slices.Equal(g.order, []uint32{10, 30, 40}) {
		t.Errorf("handed out %v", g.order)
	}
	s.mu.Lock()
	s.failUID = 0
	s.mu.Unlock()
	if g, err := collect(c, ctxT(t), []uint32{20}, nil, nil); err != nil || !slices.Equal(g.order, []uint32{20}) {
		t.Errorf("after the error: %v, %v", g.order, err)
	}
}

// A connection cut inside a body: the message in hand sees a read error, the ones after
// it are never handed out, and the error is the connection's.
func TestFetchBatchCutMidLiteral(t *testing.T) {
	s := newBatchServer(t, 5, func(uint32) int { return 600 << 10 })
	s.cutUID, s.cutAt = 30, 300<<10
	c := s.dial(t, 10*time.Second)
	defer closeSoon(t, c)
	g, err := collect(c, ctxT(t), s.uids, nil, nil)
	if KindOf(err) != KindNetwork {
		t.Fatalf("got %v (kind %v), want a network error", err, KindOf(err))
	}
	if !slices.Equal(g.order, []uint32{10, 20, 30}) {
		t.Fatalf("handed out %v", g.order)
	}
	for _, uid := range []uint32{10, 20} {
		if g.err[uid] != nil || !bytes.Equal(g.body[uid], s.raw[uid]) {
			t.Errorf("UID %d: %v, %d bytes", uid, g.err[uid], len(g.body[uid]))
		}
	}
	if g.err[30] == nil {
		t.Errorf("UID 30 read %d bytes without an error", len(g.body[30]))
	}
}

// Cancelling the context, in the middle of a body or between two messages (when the
// next one may already wait in go-imap's buffer), ends FetchBatch promptly, and the
// client closes without hanging.
func TestFetchBatchCancel(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
		mid  bool // cancel inside the second body, else after the first
	}{
		{"between small messages", 200, false},
		{"between large messages", 2 << 20, false},
		{"inside a large body", 4 << 20, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newBatchServer(t, 20, func(uint32) int { return tc.size })
			c := s.dial(t, 10*time.Second)
			ctx, cancel := context.WithCancel(ctxT(t))
			defer cancel()
			n := 0
			start := time.Now()
			err := c.FetchBatch(ctx, s.uids, nil, func(m *Message) error {
				n++
				if tc.mid && n == 2 {
					buf := make([]byte, 64<<10)
					if _, err := io.ReadFull(m.Body, buf); err != nil {
						return err
					}
					cancel()
					_, err := io.Copy(io.Discard, m.Body)
					return err
				}
				_, err := io.Copy(io.Discard, m.Body)
				if n == 1 {
					cancel()
				}
				return err
			})
			if took := time.Since(start); took > 10*time.Second {
				t.Fatalf("FetchBatch took %s", took)
			}
			if !errors.Is(err, context.Canceled) {
				t.Errorf("got %v, want context.Canceled", err)
			}
			if n > 3 {
				t.Errorf("fn ran %d times after the cancel", n)
			}
			closeSoon(t, c)
		})
	}
}

// An error from fn ends the batch at once (the connection is closed, nothing hangs).
func TestFetchBatchCallbackError(t *testing.T) {
	s := newBatchServer(t, 10, func(uint32) int { return 1 << 20 })
	c := s.dial(t, 10*time.Second)
	boom := errors.New("boom")
	n := 0
	err := c.FetchBatch(ctxT(t), s.uids, nil, func(m *Message) error {
		n++
		if n == 2 {
			io.CopyN(io.Discard, m.Body, 1000)
			return boom
		}
		_, err := io.Copy(io.Discard, m.Body)
		return err
	})
	if !errors.Is(err, boom) || n != 2 {
		t.Errorf("got %v after %d messages, want boom after 2", err, n)
	}
	closeSoon(t, c)
}

// A server that stops sending inside a body: the configured timeout ends the batch.
func TestFetchBatchStall(t *testing.T) {
	s := newBatchServer(t, 3, func(uint32) int { return 1 << 20 })
	s.stallUID = 20
	c := s.dial(t, 500*time.Millisecond)
	start := time.Now()
	g, err := collect(c, ctxT(t), s.uids, nil, func(*Message) { time.Sleep(800 * time.Millisecond) })
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("FetchBatch took %s", took)
	}
	if KindOf(err) != KindNetwork || !strings.Contains(err.Error(), "did not answer") {
		t.Errorf("got %v (kind %v), want a timeout", err, KindOf(err))
	}
	if !slices.Equal(g.order, []uint32{10, 20}) || g.err[10] != nil || g.err[20] == nil {
		t.Errorf("handed out %v, errors %v", g.order, g.err)
	}
	closeSoon(t, c)
}

// A body that fn leaves unread (a message error) is skipped, and the batch goes on.
func TestFetchBatchUnreadBody(t *testing.T) {
	s := newBatchServer(t, 4, func(uid uint32) int { return int(uid) * 30 << 10 })
	c := s.dial(t, 10*time.Second)
	defer closeSoon(t, c)
	var seen []uint32
	err := c.FetchBatch(ctxT(t), s.uids, nil, func(m *Message) error {
		seen = append(seen, m.UID)
		if m.UID%20 == 0 {
			return nil // read nothing
		}
		b, err := io.ReadAll(m.Body)
		if err != nil || !bytes.Equal(b, s.raw[m.UID]) {
			t.Errorf("UID %d: %d bytes, %v", m.UID, len(b), err)
		}
		return nil
	})
	if err != nil || !slices.Equal(seen, s.uids) {
		t.Errorf("got %v, %v", seen, err)
	}
}

// A body from FetchBatch hashes itself while the reader goroutine reads the wire
// (RawHasher): the SHA-256 of exactly the bytes fn read, once Read returned io.EOF; not
// before, not for a body read only in part, not for a body cut by the connection.
func TestFetchBatchRawSHA256(t *testing.T) {
	s := newBatchServer(t, 5, func(uid uint32) int { return int(uid) * 20 << 10 }) // 200 KB–1 MB: several chunks
	s.cutUID, s.cutAt = 50, 300<<10
	c := s.dial(t, 10*time.Second)
	defer closeSoon(t, c)
	sums := map[uint32][]byte{}
	oks := map[uint32]bool{}
	_ = c.FetchBatch(ctxT(t), s.uids, nil, func(m *Message) error {
		rh, ok := m.Body.(RawHasher)
		if !ok {
			t.Fatalf("UID %d: the body of a batch fetch is no RawHasher", m.UID)
		}
		if _, ok := rh.RawSHA256(); ok {
			t.Errorf("UID %d: a hash before anything was read", m.UID)
		}
		switch m.UID {
		case 20: // read in part: no hash, though the rest is read past by FetchBatch
			if _, err := io.ReadFull(m.Body, make([]byte, 1000)); err != nil {
				t.Fatal(err)
			}
		default:
			var buf bytes.Buffer
			if _, err := io.CopyBuffer(&buf, onlyReader{m.Body}, make([]byte, 777)); err != nil && m.UID != 50 {
				t.Errorf("UID %d: %v", m.UID, err)
			}
		}
		sums[m.UID], oks[m.UID] = rh.RawSHA256()
		return nil
	})
	for _, uid := range []uint32{10, 30, 40} {
		want := sha256.Sum256(s.raw[uid])
		if !oks[uid] || !bytes.Equal(sums[uid], want[:]) {
			t.Errorf("UID %d: RawSHA256 = %x, %v; want %x, true", uid, sums[uid], oks[uid], want)
		}
	}
	for _, uid := range []uint32{20, 50} {
		if oks[uid] || sums[uid] != nil {
			t.Errorf("UID %d (read in part or cut): RawSHA256 = %x, %v; want nothing", uid, sums[uid], oks[uid])
		}
	}
}
