package imapsrc

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"mailmover/i18n"
)

// wireConn sits between imapclient and the (TLS) connection, on the clear-text side. It
//
//   - serves a synthetic greeting first (after our own STARTTLS, see tls.go);
//   - turns imapclient's absolute deadlines into inactivity timeouts: imapclient gives a
//     whole literal 5 minutes, which a 200 MB attachment on a slow link cannot meet, so a
//     deadline of "now + d" becomes "no byte for d" (re-armed on every Read/Write);
//   - while an AUTHENTICATE is running, writes an empty SASL response as an empty line
//     instead of go-imap's "=" (Dovecot answers "=" with "BAD Invalid base64 data", and the
//     providers document an empty line as the answer to the XOAUTH2 error challenge);
type wireConn struct {
	net.Conn

	mu     sync.Mutex
	prefix []byte // unread part of the synthetic greeting

	readIdle  atomic.Int64 // ns; 0: no deadline
	writeIdle atomic.Int64

	saslEmptyAsBlank atomic.Bool
	emptyLinesSent   atomic.Int32 // empty SASL responses sent as empty line (for tests)

	// greetLeft bounds what is read before the greeting is complete (see limitGreeting);
	// -1 when no limit applies.
	greetLeft atomic.Int64
}

// maxGreeting is the most read from a server before its greeting is complete. A greeting
// is one short line; a server that streams more (a wrong port, a hostile or broken
// server) would otherwise make imapclient buffer it all.
const maxGreeting = 64 << 10

// errGreetingTooLong ends a connection whose greeting exceeds maxGreeting.
var errGreetingTooLong = i18n.NewError("the server sent more than 64 KiB without completing an IMAP greeting")

// limitGreeting caps the bytes read until endGreeting is called.
func (w *wireConn) limitGreeting() { w.greetLeft.Store(maxGreeting) }

// endGreeting lifts the cap of limitGreeting.
func (w *wireConn) endGreeting() { w.greetLeft.Store(-1) }

func newWireConn(c net.Conn, greeting string) *wireConn {
	w := &wireConn{Conn: c}
	w.greetLeft.Store(-1)
	if greeting != "" {
		w.prefix = []byte(greeting)
	}
	return w
}

// Read serves the synthetic greeting, then reads from the connection with a rolling
// deadline.
func (w *wireConn) Read(p []byte) (int, error) {
	w.mu.Lock()
	if len(w.prefix) > 0 {
		n := copy(p, w.prefix)
		w.prefix = w.prefix[n:]
		w.mu.Unlock()
		return n, nil
	}
	w.mu.Unlock()
	if d := time.Duration(w.readIdle.Load()); d > 0 {
		_ = w.Conn.SetReadDeadline(time.Now().Add(d))
	}
	left := w.greetLeft.Load()
	if left < 0 {
		return w.Conn.Read(p)
	}
	if left == 0 {
		return 0, errGreetingTooLong
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := w.Conn.Read(p)
	w.greetLeft.Add(-int64(n))
	return n, err
}

var saslEmpty = []byte("=\r\n")

// Write sends p with a rolling deadline; during AUTHENTICATE an empty SASL response
// ("=\r\n", always flushed on its own by imapclient) goes out as an empty line.
func (w *wireConn) Write(p []byte) (int, error) {
	if d := time.Duration(w.writeIdle.Load()); d > 0 {
		_ = w.Conn.SetWriteDeadline(time.Now().Add(d))
	}
	if w.saslEmptyAsBlank.Load() && bytes.Equal(p, saslEmpty) {
		if _, err := w.Conn.Write([]byte("\r\n")); err != nil {
			return 0, err
		}
		w.emptyLinesSent.Add(1)
		return len(p), nil
	}
	return w.Conn.Write(p)
}

// SetReadDeadline records the time left as an inactivity timeout.
func (w *wireConn) SetReadDeadline(t time.Time) error {
	w.readIdle.Store(int64(idleFor(t)))
	return w.Conn.SetReadDeadline(t)
}

// SetWriteDeadline records the time left as an inactivity timeout.
func (w *wireConn) SetWriteDeadline(t time.Time) error {
	w.writeIdle.Store(int64(idleFor(t)))
	return w.Conn.SetWriteDeadline(t)
}

// SetDeadline sets both deadlines.
func (w *wireConn) SetDeadline(t time.Time) error {
	if err := w.SetReadDeadline(t); err != nil {
		return err
	}
	return w.SetWriteDeadline(t)
}

func idleFor(t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	d := time.Until(t)
	if d < time.Second {
		d = time.Second
	}
	return d
}
