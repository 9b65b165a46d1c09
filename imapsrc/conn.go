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

	// The bounds of limit.go. scan is used by the one goroutine that reads (imapclient's);
	// the others are set by the operation in hand (setBodyCap, setBudget).
	scan        respScanner
	deadlineSet bool         // Read set a read deadline on Conn
	textTime    atomic.Int64 // ns a stretch of response text may take; 0: no limit
	bodyCap     atomic.Int64 // the largest body literal accepted now (0: none)
	budget      atomic.Int64 // bytes the operation in hand may still read; < 0: no budget
	budgetOn    atomic.Bool
	overWhat    atomic.Pointer[string] // what the budget is for, to say when it is used up
	failed      atomic.Pointer[limitError]
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
	w := &wireConn{Conn: c, scan: newRespScanner()}
	w.greetLeft.Store(-1)
	if greeting != "" {
		w.prefix = []byte(greeting)
	}
	return w
}

// Read serves the synthetic greeting, then reads from the connection with a rolling
// deadline, within the bounds of limit.go: once one is broken, the connection is closed
// and every Read fails with the *limitError (see limitErr).
func (w *wireConn) Read(p []byte) (int, error) {
	w.mu.Lock()
	if len(w.prefix) > 0 {
		n := copy(p, w.prefix)
		w.prefix = w.prefix[n:]
		w.mu.Unlock()
		return n, nil
	}
	w.mu.Unlock()
	if le := w.failed.Load(); le != nil {
		return 0, le
	}
	now := time.Now()
	textTime := time.Duration(w.textTime.Load())
	var deadline time.Time
	if d := time.Duration(w.readIdle.Load()); d > 0 {
		deadline = now.Add(d)
	}
	// Within a response's text, the rest of the stretch must come before textTime is up.
	segStart, inText := w.scan.inText()
	if inText && textTime > 0 {
		if end := segStart.Add(textTime); deadline.IsZero() || end.Before(deadline) {
			deadline = end
		}
	}
	if !deadline.IsZero() || w.deadlineSet {
		_ = w.Conn.SetReadDeadline(deadline)
		w.deadlineSet = !deadline.IsZero()
	}
	left := w.greetLeft.Load()
	if left == 0 {
		return 0, errGreetingTooLong
	}
	if left > 0 && int64(len(p)) > left {
		p = p[:left]
	}
	n, err := w.Conn.Read(p)
	if left > 0 {
		w.greetLeft.Add(-int64(n))
	}
	now = time.Now()
	if err != nil && inText && textTime > 0 && !now.Before(segStart.Add(textTime)) {
		return n, w.fail(errTooSlow(textTime))
	}
	k, le := w.scan.scan(p[:n], now, w.bodyCap.Load(), textTime)
	if le == nil && w.budgetOn.Load() && w.budget.Add(-int64(n)) < 0 {
		k, le = n, &limitError{*w.overWhat.Load()}
	}
	if le != nil {
		return k, w.fail(le)
	}
	return n, err
}

// fail records le as the reason the connection ends, closes it and returns the reason
// that counts (the first one).
func (w *wireConn) fail(le *limitError) error {
	w.failed.CompareAndSwap(nil, le)
	_ = w.Conn.Close()
	return w.failed.Load()
}

// limitErr returns the bound the server broke, or nil.
func (w *wireConn) limitErr() *limitError { return w.failed.Load() }

// setBodyCap accepts body literals up to n bytes (0: none; see respScanner).
func (w *wireConn) setBodyCap(n int64) { w.bodyCap.Store(n) }

// setBudget limits what is read from now on to n bytes; when they are used up, the
// connection fails with reason. clearBudget lifts it.
func (w *wireConn) setBudget(n int64, reason string) {
	w.overWhat.Store(&reason)
	w.budget.Store(n)
	w.budgetOn.Store(true)
}

func (w *wireConn) clearBudget() { w.budgetOn.Store(false) }

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
