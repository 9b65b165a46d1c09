// Package badimap is a misbehaving IMAP server for tests, on loopback: it plays a small
// server (password LOGIN, one folder INBOX with a few messages, IDLE) up to a chosen
// point, and then does one bad thing there (Mode) — an endless line, an endless literal,
// a literal far larger than the message's RFC822.SIZE, endless data during IDLE, a huge
// SEARCH answer. Sent reports how much it managed to send, so that a test can check that
// the client stopped reading early.
package badimap

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Mode is what the server does wrong.
type Mode int

// The modes.
const (
	Good                Mode = iota // no misbehaviour: serves the messages
	EndlessLinePreLogin             // answers the first command before LOGIN with an endless untagged line
	EndlessLineList                 // answers LIST with an endless folder name
	EndlessLiteral                  // answers a body FETCH with a literal announced and sent without end
	LiteralOverSize                 // sends a body of 64 MiB for a message whose RFC822.SIZE is under 100 bytes
	EndlessIdleData                 // during IDLE, sends small untagged lines without end, never EXISTS
	TrickleIdleLine                 // during IDLE, sends one line a byte every 100 ms, without end
	HugeSearch                      // answers SEARCH with untagged SEARCH lines of distinct UIDs without end
	HugeEnvelopes                   // answers the envelope FETCH with a 6 MiB subject for each message
)

// Messages is how many messages INBOX holds (UIDs 1..Messages).
const Messages = 3

// Message is the raw message the server holds under each UID.
const Message = "From: a@example.com\r\nTo: b@example.com\r\nSubject: hello\r\n" +
	"Content-Type: text/plain\r\n\r\nhello\r\n"

// Server is one running bad server.
type Server struct {
	Mode Mode
	ln   net.Listener
	sent atomic.Int64
	wg   sync.WaitGroup
	mu   sync.Mutex
	cs   []net.Conn
}

// Start listens on 127.0.0.1 on a free port and serves every connection in mode.
func Start(mode Mode) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Mode: mode, ln: ln}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Host is the address the server listens on (127.0.0.1).
func (s *Server) Host() string { return s.ln.Addr().(*net.TCPAddr).IP.String() }

// Port is the port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Sent is how many bytes the server has sent, over all connections.
func (s *Server) Sent() int64 { return s.sent.Load() }

// Close stops the server and closes every connection.
func (s *Server) Close() {
	_ = s.ln.Close()
	s.mu.Lock()
	for _, c := range s.cs {
		_ = c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.cs = append(s.cs, c)
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			(&session{s: s, c: c, r: bufio.NewReader(c)}).serve()
		}()
	}
}

type session struct {
	s      *Server
	c      net.Conn
	r      *bufio.Reader
	authed bool
}

// write sends p; false when the client is gone.
func (ss *session) write(p []byte) bool {
	n, err := ss.c.Write(p)
	ss.s.sent.Add(int64(n))
	return err == nil
}

func (ss *session) send(format string, args ...any) bool {
	return ss.write([]byte(fmt.Sprintf(format, args...)))
}

// endless sends prefix, then chunks of filler until the client goes away.
func (ss *session) endless(prefix string, filler byte) {
	if !ss.write([]byte(prefix)) {
		return
	}
	chunk := []byte(strings.Repeat(string(filler), 64<<10))
	for ss.write(chunk) {
	}
}

func (ss *session) serve() {
	if !ss.send("* OK [CAPABILITY IMAP4rev1 IDLE UIDPLUS MOVE] badimap ready\r\n") {
		return
	}
	for {
		line, err := ss.r.ReadString('\n')
		if err != nil {
			return
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		tag, cmd := f[0], strings.ToUpper(f[1])
		args := f[2:]
		if cmd == "UID" && len(f) > 2 {
			cmd, args = "UID "+strings.ToUpper(f[2]), f[3:]
		}
		if !ss.authed && ss.s.Mode == EndlessLinePreLogin {
			ss.endless("* OK ", 'A')
			return
		}
		if !ss.command(tag, cmd, args, line) {
			return
		}
	}
}

// command answers one command; false ends the session.
func (ss *session) command(tag, cmd string, args []string, line string) bool {
	switch cmd {
	case "CAPABILITY":
		return ss.send("* CAPABILITY IMAP4rev1 IDLE UIDPLUS MOVE\r\n%s OK done\r\n", tag)
	case "LOGIN":
		ss.authed = true
		return ss.send("%s OK [CAPABILITY IMAP4rev1 IDLE UIDPLUS MOVE] logged in\r\n", tag)
	case "SELECT", "EXAMINE":
		return ss.send("* %d EXISTS\r\n* 0 RECENT\r\n* FLAGS (\\Seen \\Deleted)\r\n"+
			"* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT %d] ok\r\n%s OK [READ-WRITE] selected\r\n", Messages, Messages+1, tag)
	case "LIST":
		if ss.s.Mode == EndlessLineList {
			ss.endless(`* LIST () "/" `, 'A')
			return false
		}
		return ss.send("* LIST (\\HasNoChildren) \"/\" INBOX\r\n%s OK listed\r\n", tag)
	case "UID SEARCH", "SEARCH":
		if ss.s.Mode == HugeSearch {
			ss.hugeSearch()
			return false
		}
		return ss.send("* SEARCH 1 2 3\r\n%s OK searched\r\n", tag)
	case "UID FETCH", "FETCH":
		return ss.fetch(tag, args, strings.ToUpper(line))
	case "IDLE":
		return ss.idle(tag)
	case "LOGOUT":
		ss.send("* BYE bye\r\n%s OK bye\r\n", tag)
		return false
	}
	return ss.send("%s OK done\r\n", tag)
}

func (ss *session) hugeSearch() {
	var b strings.Builder
	uid := 1
	for {
		b.Reset()
		b.WriteString("* SEARCH")
		for b.Len() < 64<<10 {
			b.WriteString(" " + strconv.Itoa(uid))
			uid += 2
		}
		b.WriteString("\r\n")
		if !ss.write([]byte(b.String())) {
			return
		}
	}
}

// uids lists the UIDs of a UID set ("1:3", "2", "1,3") that the folder holds.
func uids(set string) []int {
	var out []int
	for _, r := range strings.Split(set, ",") {
		lo, hi, isRange := strings.Cut(r, ":")
		a, _ := strconv.Atoi(lo)
		b := a
		if isRange {
			if hi == "*" {
				b = Messages
			} else {
				b, _ = strconv.Atoi(hi)
			}
		}
		if a > b {
			a, b = b, a
		}
		for u := max(a, 1); u <= min(b, Messages); u++ {
			out = append(out, u)
		}
	}
	return out
}

func (ss *session) fetch(tag string, args []string, line string) bool {
	if len(args) == 0 {
		return ss.send("%s BAD no set\r\n", tag)
	}
	body := strings.Contains(line, "BODY.PEEK[]") || strings.Contains(line, "BODY[]")
	for _, u := range uids(args[0]) {
		if !body {
			subject := `"hello"`
			if ss.s.Mode == HugeEnvelopes {
				subject = `"` + strings.Repeat("S", 6<<20) + `"`
			}
			if !ss.send("* %d FETCH (UID %d RFC822.SIZE %d FLAGS () INTERNALDATE \"01-Jan-2024 10:00:00 +0000\" "+
				"ENVELOPE (\"Mon, 1 Jan 2024 10:00:00 +0000\" %s ((NIL NIL \"a\" \"example.com\")) NIL NIL NIL NIL NIL NIL \"<m%d@example.com>\"))\r\n",
				u, u, len(Message), subject, u) {
				return false
			}
			continue
		}
		switch ss.s.Mode {
		case EndlessLiteral:
			ss.endless(fmt.Sprintf("* %d FETCH (UID %d BODY[] {%d}\r\n", u, u, int64(1)<<40), 'x')
			return false
		case LiteralOverSize:
			n := 64 << 20
			if !ss.send("* %d FETCH (UID %d BODY[] {%d}\r\n", u, u, n) {
				return false
			}
			chunk := []byte(strings.Repeat("x", 64<<10))
			for n > 0 {
				k := min(n, len(chunk))
				if !ss.write(chunk[:k]) {
					return false
				}
				n -= k
			}
			if !ss.send(")\r\n") {
				return false
			}
			continue
		}
		if !ss.send("* %d FETCH (UID %d BODY[] {%d}\r\n%s)\r\n", u, u, len(Message), Message) {
			return false
		}
	}
	return ss.send("%s OK fetched\r\n", tag)
}

func (ss *session) idle(tag string) bool {
	if !ss.send("+ idling\r\n") {
		return false
	}
	switch ss.s.Mode {
	case EndlessIdleData:
		go func() { _, _ = io.Copy(io.Discard, ss.r) }()
		line := []byte("* OK still here\r\n")
		for ss.write(line) {
		}
		return false
	case TrickleIdleLine:
		go func() { _, _ = io.Copy(io.Discard, ss.r) }()
		if !ss.send("* OK ") {
			return false
		}
		for ss.write([]byte("z")) {
			time.Sleep(100 * time.Millisecond)
		}
		return false
	}
	line, err := ss.r.ReadString('\n')
	if err != nil || !strings.EqualFold(strings.TrimSpace(line), "DONE") {
		return false
	}
	return ss.send("%s OK idle done\r\n", tag)
}
