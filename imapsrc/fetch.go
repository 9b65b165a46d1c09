package imapsrc

import (
	"context"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailmover/i18n"
)

// Fetch streams one message by UID with BODY.PEEK[] (it never sets \Seen) and calls fn
// while the body is being read from the wire: memory does not grow with the message's
// size. Envelope, size, flags and internal date are fetched first, in a separate command,
// so they are known before fn runs whatever order the server sends items in. A UID that
// no longer exists gives an *Error of KindGone. The configured timeout applies while
// waiting on the server, not while fn works on what it has read.
func (c *Client) Fetch(ctx context.Context, uid uint32, fn func(*Message) error) error {
	host := c.cfg.addr()
	set := imap.UIDSetNum(imap.UID(uid))
	metas, err := c.fetchMetas(ctx, set, []uint32{uid})
	if err != nil {
		return classifyNet(ctx, host, i18n.Sprintf("fetch UID %d", uid), err)
	}
	msg := metas[uid]
	if msg == nil {
		return &Error{Kind: KindGone, Host: host, Op: i18n.Sprintf("fetch UID %d", uid),
			Reason: i18n.T("the message is no longer in the folder (moved or deleted by another client)")}
	}

	allow := bodyAllowance(msg.Size)
	c.bodyMode(allow, allow, 1)
	defer c.bodyMode(0, 0, 0)
	g := c.newGuard(ctx, c.cfg.timeout())
	cmd := c.ic.Fetch(set, &imap.FetchOptions{
		UID:         true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	})
	var fnErr error
	called := false
	for m := cmd.Next(); m != nil; m = cmd.Next() {
		for item := m.Next(); item != nil; item = m.Next() {
			bs, ok := item.(imapclient.FetchItemDataBodySection)
			if !ok || called {
				continue
			}
			called = true
			if bs.Literal != nil && bs.Literal.Size() > allow {
				// Not read: it could fill the disk. The connection is given up.
				c.abandon(bs.Literal)
				g.done(nil)
				c.closeNow()
				return oversizeError(host, uid, bs.Literal.Size(), msg.Size)
			}
			var body io.Reader = strings.NewReader("")
			var gr *guardedReader
			if bs.Literal != nil {
				gr = &guardedReader{r: bs.Literal, g: g, size: bs.Literal.Size()}
				body = gr
			}
			msg.Body = body
			g.disarm()
			fnErr = fn(msg)
			g.arm()
			msg.Body = nil
			if gr != nil && gr.broken {
				// The body ended short (cut connection). go-imap beta.8 would read the
				// rest of the literal again from a buffer its own reader goroutine is
				// using (a data race), so the connection was closed: stop here.
				if gerr := g.done(nil); g.why.Load() != 0 {
					return classifyNet(ctx, host, i18n.Sprintf("fetch UID %d", uid), gerr) // the guard closed it: ctx.Err() or a timeout
				}
				if le := c.limitErr(); le != nil {
					return le.asError(host, i18n.Sprintf("fetch UID %d", uid))
				}
				return &Error{Kind: KindNetwork, Host: host, Op: i18n.Sprintf("fetch UID %d", uid),
					Reason: i18n.T("the connection broke while the message was being read"),
					Advice: i18n.T("Check the network; MailMover connects again on its own."), Err: gr.err}
			}
		}
	}
	err = g.done(cmd.Close())
	if g.why.Load() != 0 {
		return classifyNet(ctx, host, i18n.Sprintf("fetch UID %d", uid), err) // the guard closed the connection: ctx.Err() or a timeout
	}
	if fnErr != nil {
		return fnErr
	}
	if err != nil {
		return classifyNet(ctx, host, i18n.Sprintf("fetch UID %d", uid), err)
	}
	if !called {
		return &Error{Kind: KindGone, Host: host, Op: i18n.Sprintf("fetch UID %d", uid),
			Reason: i18n.T("the server sent no body for the message (deleted meanwhile?)")}
	}
	return nil
}

// fetchMetas fetches envelope, size, flags and internal date of the messages of set, in
// one command, and returns those of the UIDs asked for (the first answer for each; the
// server leaves out the ones it no longer has), without a body. The answers are taken one
// by one and only their bounded summary is kept (see envelope), so that a server sending
// huge envelopes cannot make the batch's memory grow with their size.
func (c *Client) fetchMetas(ctx context.Context, set imap.UIDSet, asked []uint32) (map[uint32]*Message, error) {
	want := make(map[uint32]bool, len(asked))
	for _, u := range asked {
		want[u] = true
	}
	metas := make(map[uint32]*Message, len(asked))
	err := c.run(ctx, func() error {
		cmd := c.ic.Fetch(set, &imap.FetchOptions{
			UID: true, RFC822Size: true, Envelope: true, Flags: true, InternalDate: true,
		})
		for m := cmd.Next(); m != nil; m = cmd.Next() {
			b, err := m.Collect()
			if err != nil {
				_ = cmd.Close()
				return err
			}
			uid := uint32(b.UID)
			if !want[uid] || metas[uid] != nil {
				continue
			}
			metas[uid] = &Message{UID: uid, Size: b.RFC822Size, InternalDate: b.InternalDate,
				Envelope: envelope(b.Envelope), Flags: flagList(b.Flags)}
		}
		return cmd.Close()
	})
	if err != nil {
		return nil, err
	}
	return metas, nil
}

// Bounds of what is kept of a message's envelope and flags (a hostile server can send
// megabytes in each).
const (
	maxEnvelopeField = 16 << 10
	maxFlagBytes     = 16 << 10
)

// flagList keeps the flags as strings: the system flags ("\Seen", …), and keywords up
// to maxFlagBytes in all.
func flagList(flags []imap.Flag) []string {
	var out []string
	n := 0
	for _, f := range flags {
		if !strings.HasPrefix(string(f), `\`) || len(f) > 16 {
			if n += len(f); n > maxFlagBytes {
				continue
			}
		}
		out = append(out, string(f))
		if len(out) >= 4096 {
			break
		}
	}
	return out
}

// clipField cuts s to maxEnvelopeField bytes, at a rune boundary.
func clipField(s string) string {
	if len(s) <= maxEnvelopeField {
		return s
	}
	cut := maxEnvelopeField
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// bodyMode sets the bounds of a body FETCH (see respScanner): body literals up to most
// bytes, and all in all what total body literals of n messages may carry; 0, 0, 0 ends
// it.
func (c *Client) bodyMode(most, total int64, n int) {
	c.wire.setBodyCap(most)
	if n == 0 {
		c.wire.clearBudget()
		return
	}
	budget := total + int64(n)*bodySlack + 1<<20
	if budget < total { // overflow
		budget = 1 << 62
	}
	c.wire.setBudget(budget, i18n.T("the server sent much more than the messages' announced sizes"))
}

// oversizeError is the error of a message whose body literal is larger than
// bodyAllowance of its RFC822.SIZE.
func oversizeError(host string, uid uint32, got, size int64) *Error {
	return &Error{Kind: KindServer, Host: host, Op: i18n.Sprintf("fetch UID %d", uid),
		Reason: i18n.Sprintf("the server announced %d bytes for a message of %d bytes (RFC822.SIZE); it was not read", got, size),
		Advice: i18n.T("The server is broken or hostile: nothing of this message was saved, and it stays in the folder. Tell the server's administrator.")}
}

// abandon gives up the connection in the middle of the literal lit: the connection is
// closed, then lit is read until that fails, which lets go-imap's reader goroutine (it
// waits until a literal it handed out is read) end, so that the client can be closed.
func (c *Client) abandon(lit io.Reader) {
	_ = c.wire.Conn.Close()
	_, _ = io.Copy(io.Discard, onlyReader{lit})
}

// guardedReader arms the guard's timeout while a Read waits on the wire. When the
// literal ends before its announced size, or a read fails, it closes the connection and
// keeps failing: the connection cannot be used any more.
type guardedReader struct {
	r      io.Reader
	g      *guard
	size   int64
	read   int64
	broken bool
	err    error
}

func (r *guardedReader) Read(p []byte) (int, error) {
	if r.broken {
		return 0, r.err
	}
	r.g.arm()
	n, err := r.r.Read(p)
	r.g.disarm()
	r.read += int64(n)
	if err != nil && (err != io.EOF || r.read < r.size) {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		r.broken, r.err = true, err
		_ = r.g.c.ic.Close()
	}
	return n, err
}

func envelope(e *imap.Envelope) Envelope {
	if e == nil {
		return Envelope{}
	}
	out := Envelope{Date: e.Date, Subject: clipField(e.Subject), MessageID: clipField(e.MessageID)}
	if len(e.From) > 0 {
		out.From = clipField(e.From[0].Addr())
		out.FromName = clipField(e.From[0].Name)
	}
	return out
}
