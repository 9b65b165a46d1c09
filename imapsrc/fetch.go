package imapsrc

import (
	"context"
	"io"
	"strings"

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
					return gerr // the guard closed it: ctx.Err() or a timeout *Error
				}
				return &Error{Kind: KindNetwork, Host: host, Op: i18n.Sprintf("fetch UID %d", uid),
					Reason: i18n.T("the connection broke while the message was being read"),
					Advice: i18n.T("Check the network; MailMover connects again on its own."), Err: gr.err}
			}
		}
	}
	err = g.done(cmd.Close())
	if g.why.Load() != 0 {
		return err // the guard closed the connection: ctx.Err() or a timeout *Error
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
// server leaves out the ones it no longer has), without a body.
func (c *Client) fetchMetas(ctx context.Context, set imap.UIDSet, asked []uint32) (map[uint32]*Message, error) {
	var bufs []*imapclient.FetchMessageBuffer
	err := c.run(ctx, func() (err error) {
		bufs, err = c.ic.Fetch(set, &imap.FetchOptions{
			UID: true, RFC822Size: true, Envelope: true, Flags: true, InternalDate: true,
		}).Collect()
		return err
	})
	if err != nil {
		return nil, err
	}
	want := make(map[uint32]bool, len(asked))
	for _, u := range asked {
		want[u] = true
	}
	metas := make(map[uint32]*Message, len(bufs))
	for _, b := range bufs {
		uid := uint32(b.UID)
		if !want[uid] || metas[uid] != nil {
			continue
		}
		msg := &Message{UID: uid, Size: b.RFC822Size, InternalDate: b.InternalDate, Envelope: envelope(b.Envelope)}
		for _, f := range b.Flags {
			msg.Flags = append(msg.Flags, string(f))
		}
		metas[uid] = msg
	}
	return metas, nil
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
	out := Envelope{Date: e.Date, Subject: e.Subject, MessageID: e.MessageID}
	if len(e.From) > 0 {
		out.From = e.From[0].Addr()
		out.FromName = e.From[0].Name
	}
	return out
}
