package imapsrc

import (
	"context"
	"crypto/sha256"
	"hash"
	"io"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"mailmover/i18n"
)

// Read-ahead of message bodies in FetchBatch: a goroutine reads the literals from the
// wire (socket, TLS) up to readAheadDepth chunks of readAheadChunk bytes ahead of fn,
// across message boundaries, so that reading overlaps with what fn does with the bytes.
// Memory stays bounded by depth × chunk, whatever the messages' sizes.
const (
	readAheadDepth = 16
	readAheadChunk = 128 << 10
)

// FetchBatch fetches the messages uids with two commands in all, not two per message:
//
//  1. one UID FETCH of UID, RFC822.SIZE, ENVELOPE, FLAGS and INTERNALDATE for the whole
//     set; want is called for each message the server still has (ascending UID), with
//     Body nil, and says whether its body is wanted (nil want: all are);
//  2. one UID FETCH BODY.PEEK[] (never sets \Seen) for the wanted messages; fn is called
//     for each of them in the order the server sends them, while its body streams from
//     the wire (memory does not grow with the size of a message or of the batch).
//
// fn must only read the body and record what it did; it must not use the Client (no
// command can be sent while the body command streams). An error from fn ends the batch:
// the connection is closed (it is mid-literal) and FetchBatch returns the error; the
// Client is unusable afterwards. A message's own failure (broken MIME, full disk) is
// therefore to be recorded by fn, which returns nil: the rest of its body is skipped and
// the batch goes on.
//
// Messages the server no longer has are never handed to fn nor to want. FetchBatch
// returns nil when every wanted message the server still had went through fn; otherwise
// the error that ended the batch: ctx.Err(), a KindNetwork *Error (connection lost,
// timeout; the Client is unusable), or a KindServer *Error when the server refused the
// command (the messages it did send went through fn; the Client stays usable). A message
// whose fn call saw its body end short always gets a non-nil return.
//
// ctx is checked between messages; cancelling it closes the connection and FetchBatch
// returns promptly. The configured timeout applies while waiting on the server, not
// while fn works on what it has read.
func (c *Client) FetchBatch(ctx context.Context, uids []uint32, want func(*Message) bool, fn func(*Message) error) error {
	if len(uids) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	host := c.cfg.addr()
	op := i18n.Sprintf("fetch %d messages", len(uids))
	var set imap.UIDSet
	for _, u := range uids {
		set.AddNum(imap.UID(u))
	}
	metas, err := c.fetchMetas(ctx, set, uids)
	if err != nil {
		return classifyNet(ctx, host, op, err)
	}
	var wanted imap.UIDSet
	n := 0
	var most, total int64
	for _, uid := range slices.Sorted(maps.Keys(metas)) {
		if want != nil && !want(metas[uid]) {
			delete(metas, uid)
			continue
		}
		wanted.AddNum(imap.UID(uid))
		n++
		a := bodyAllowance(metas[uid].Size)
		most = max(most, a)
		if total += a; total < 0 {
			total = 1 << 62
		}
	}
	if n == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.bodyMode(most, total, n)
	defer c.bodyMode(0, 0, 0)
	return c.fetchBodies(ctx, host, op, wanted, metas, fn)
}

// fetchBodies runs the body command of FetchBatch.
//
// A reader goroutine drives the command: it takes each message from go-imap and reads its
// literal (the socket, TLS) into chunks, a bounded number ahead of fn and across message
// boundaries, so that reading the wire overlaps with what fn does with the bytes; fn runs
// in the caller's goroutine, over one message at a time.
//
// go-imap's own reader goroutine hands each literal over and waits until it is read to
// its end (or fails) before it parses anything else. So nothing may wait for that
// goroutine (imapclient.Client.Close does) while a literal it handed out is unread: to
// end the batch early, the connection is closed from a goroutine of its own while the
// reader goroutine reads every literal still coming until it fails. And a literal that
// failed is never read again (go-imap's discard would then read the connection's buffer
// while its reader goroutine does): the command is then abandoned as it is.
func (c *Client) fetchBodies(ctx context.Context, host, op string, set imap.UIDSet, metas map[uint32]*Message, fn func(*Message) error) error {
	g := c.newGuard(ctx, c.cfg.timeout())
	g.disarm() // the reader arms it while it waits on the server
	cmd := c.ic.Fetch(set, &imap.FetchOptions{
		UID:         true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}},
	})
	r := &bodyReader{c: c, g: g, host: host, op: op, cmd: cmd, metas: metas,
		msgs: make(chan *streamedMsg, 4), slots: make(chan struct{}, readAheadDepth), done: make(chan struct{})}
	go r.run()

	var stop error // set when the batch ends early: the connection is being closed
	abort := func(err error) {
		if stop == nil {
			stop = err
			r.aborted.Store(true)
			go c.closeNow()
		}
	}
	for sm := range r.msgs {
		if stop == nil && ctx.Err() != nil {
			abort(ctx.Err())
		}
		if stop != nil {
			sm.body.discard()
			continue
		}
		sm.msg.Body = sm.body
		err := fn(sm.msg)
		sm.msg.Body = nil
		sm.body.discard() // what fn left of the body
		if err != nil {
			abort(err)
		}
	}
	<-r.done
	gerr := g.done(nil)
	if g.why.Load() != 0 {
		return classifyNet(ctx, host, op, gerr) // the guard closed the connection: ctx.Err() or a timeout
	}
	if r.oversized {
		return r.err // the connection was given up: not fn's error, which is the message's
	}
	if le := c.limitErr(); le != nil && (stop != nil || r.err != nil) {
		return le.asError(host, op) // the connection broke a bound: why it ended
	}
	if stop != nil {
		return stop
	}
	if r.err != nil {
		return classifyNet(ctx, host, op, r.err)
	}
	return nil
}

// streamedMsg is one message of a body command on its way from the reader goroutine to fn.
type streamedMsg struct {
	msg  *Message
	body *bodyStream
}

// bodyReader is the reader goroutine of fetchBodies.
type bodyReader struct {
	c         *Client
	g         *guard
	host, op  string
	cmd       *imapclient.FetchCommand
	metas     map[uint32]*Message
	msgs      chan *streamedMsg // closed at the end
	slots     chan struct{}     // one per chunk read ahead (bounds the memory)
	aborted   atomic.Bool       // fetchBodies ends the batch: read past everything
	done      chan struct{}
	err       error // why the command ended (nil: OK); read after done
	oversized bool  // a body was larger than its allowance: the connection was given up
	pool      *chunkPool
}

func (r *bodyReader) run() {
	defer close(r.done)
	defer close(r.msgs)
	r.pool = chunks
	for {
		r.g.arm()
		m := r.cmd.Next()
		r.g.disarm()
		if m == nil {
			break
		}
		var uid uint32
		for {
			r.g.arm()
			item := m.Next()
			r.g.disarm()
			if item == nil {
				break
			}
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				uid = uint32(it.UID)
			case imapclient.FetchItemDataBodySection:
				if it.Literal == nil {
					continue
				}
				msg := r.metas[uid]
				if size := it.Literal.Size(); msg != nil && !r.aborted.Load() && size > bodyAllowance(msg.Size) {
					// Not read: it could fill the disk. It is the message's error, and the
					// connection is given up (the batch ends).
					delete(r.metas, uid)
					oe := oversizeError(r.host, uid, size, msg.Size)
					bs := &bodyStream{ch: make(chan *[]byte), slots: r.slots, pool: r.pool, err: oe}
					close(bs.ch)
					r.msgs <- &streamedMsg{msg: msg, body: bs}
					r.c.abandon(it.Literal)
					r.oversized = true
					r.err = &Error{Kind: KindNetwork, Host: r.host, Op: r.op,
						Reason: i18n.Sprintf("the connection was given up because message UID %d was much larger than announced", uid),
						Advice: i18n.T("MailMover connects again on its own; the message stays in the folder."), Err: oe}
					return
				}
				gr := &guardedReader{r: it.Literal, g: r.g, size: it.Literal.Size()}
				if msg == nil || r.aborted.Load() {
					// Not asked for, sent twice, or the batch is over: read past it.
					_, _ = io.Copy(io.Discard, onlyReader{gr})
				} else {
					delete(r.metas, uid)
					bs := &bodyStream{ch: make(chan *[]byte, readAheadDepth), slots: r.slots, pool: r.pool, h: sha256.New()}
					r.msgs <- &streamedMsg{msg: msg, body: bs}
					r.stream(gr, bs)
				}
				if gr.broken {
					// The connection is closed; the command is abandoned as it is.
					r.err = &Error{Kind: KindNetwork, Host: r.host, Op: r.op,
						Reason: i18n.T("the connection broke while a message was being read"),
						Advice: i18n.T("Check the network; MailMover connects again on its own."), Err: gr.err}
					return
				}
			}
		}
	}
	r.g.arm()
	r.err = r.cmd.Close()
	r.g.disarm()
}

// stream reads the literal gr into bs, chunk by chunk, hashing it (bodyStream.RawSHA256),
// then closes bs with gr's final error (io.EOF at its announced end).
func (r *bodyReader) stream(gr *guardedReader, bs *bodyStream) {
	defer close(bs.ch)
	for {
		r.slots <- struct{}{}
		b := r.pool.get()
		buf := (*b)[:cap(*b)]
		n := 0
		var err error
		for n < len(buf) && err == nil {
			var k int
			k, err = gr.Read(buf[n:])
			n += k
		}
		if n > 0 {
			*b = buf[:n]
			bs.h.Write(*b) // here, on the reader's core, not in fn's goroutine
			bs.ch <- b
		} else {
			r.pool.put(b)
			<-r.slots
		}
		if err != nil {
			bs.err = err // io.EOF only at the literal's announced end (guardedReader)
			return
		}
	}
}

// onlyReader hides WriteTo, so that io.Copy reads through the wrapper.
type onlyReader struct{ io.Reader }

// chunkPool recycles the read-ahead buffers.
type chunkPool struct{ p sync.Pool }

var chunks = &chunkPool{p: sync.Pool{New: func() any { b := make([]byte, readAheadChunk); return &b }}}

func (p *chunkPool) get() *[]byte  { return p.p.Get().(*[]byte) }
func (p *chunkPool) put(b *[]byte) { *b = (*b)[:cap(*b)]; p.p.Put(b) }

// bodyStream is one message's body as fn reads it: the chunks the reader goroutine
// read ahead, in order, then the literal's final error.
type bodyStream struct {
	ch    chan *[]byte // closed after the last chunk, once err is set
	slots chan struct{}
	pool  *chunkPool
	err   error     // io.EOF at a clean end; read after ch is closed
	h     hash.Hash // SHA-256 of every chunk sent on ch (written by the reader goroutine)
	cur   []byte
	owned *[]byte
	ended bool
}

func (bs *bodyStream) release() {
	if bs.owned != nil {
		bs.pool.put(bs.owned)
		bs.owned = nil
		<-bs.slots
	}
}

// Read returns the literal's bytes in order; at the end, its final error (io.EOF).
func (bs *bodyStream) Read(p []byte) (int, error) {
	for len(bs.cur) == 0 {
		bs.release()
		if bs.ended {
			return 0, bs.err
		}
		b, ok := <-bs.ch
		if !ok {
			bs.ended = true
			return 0, bs.err
		}
		bs.cur, bs.owned = *b, b
	}
	n := copy(p, bs.cur)
	bs.cur = bs.cur[n:]
	return n, nil
}

// RawSHA256 returns the SHA-256 of the whole body, computed by the reader goroutine while
// it read the wire (so that the consumer's goroutine does not spend its time on it), and
// true — once Read has returned io.EOF: every byte was read, and the hash covers exactly
// the bytes Read returned. Before that, or after any other end, it returns nil, false.
func (bs *bodyStream) RawSHA256() ([]byte, bool) {
	if !bs.ended || bs.err != io.EOF || len(bs.cur) != 0 || bs.h == nil {
		return nil, false
	}
	return bs.h.Sum(nil), true
}

// discard drops what is left of the body, waiting until the reader has read all of it.
func (bs *bodyStream) discard() {
	bs.cur = nil
	bs.release()
	for b := range bs.ch {
		bs.pool.put(b)
		<-bs.slots
	}
	bs.ended = true
	bs.h = nil // fn has returned: nobody asks for the hash any more
}
