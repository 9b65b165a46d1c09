package imapsrc

import (
	"context"
	"sync/atomic"
	"time"

	"mailmover/i18n"
)

// guard ties one operation to ctx and to a timeout: when either fires, the connection is
// closed (go-imap has no contexts), which aborts what is in flight. Between arm and
// disarm the timeout runs; while the caller's own code runs (disarmed) it does not.
type guard struct {
	c       *Client
	ctx     context.Context
	timeout time.Duration
	why     atomic.Int32 // 1: ctx done, 2: timeout
	timer   *time.Timer
	stop    func() bool
}

func (c *Client) newGuard(ctx context.Context, timeout time.Duration) *guard {
	g := &guard{c: c, ctx: ctx, timeout: timeout}
	g.stop = context.AfterFunc(ctx, func() {
		g.why.CompareAndSwap(0, 1)
		c.closeNow()
	})
	g.timer = time.AfterFunc(timeout, func() {
		if g.why.CompareAndSwap(0, 2) {
			c.log.Warn("IMAP server stopped answering; closing the connection", "host", c.cfg.addr(), "after", timeout)
			c.closeNow()
		}
	})
	return g
}

func (g *guard) arm()    { g.timer.Reset(g.timeout) }
func (g *guard) disarm() { g.timer.Stop() }

// done releases the guard and replaces err by ctx.Err() or a timeout error when the guard
// closed the connection. When the connection failed because the server broke a bound of limit.go, err is
// replaced by that *limitError (go-imap only passes on its text), which classifyNet turns
// into an *Error.
func (g *guard) done(err error) error {
	g.stop()
	g.timer.Stop()
	why := g.why.Load()
	if why == 1 {
		return g.ctx.Err()
	}
	if le := g.c.limitErr(); le != nil && (err != nil || why != 0) {
		return le
	}
	switch why {
	case 2:
		return &Error{Kind: KindNetwork, Host: g.c.cfg.addr(), Op: i18n.T("wait"),
			Reason: i18n.Sprintf("the server did not answer within %s", g.timeout),
			Advice: i18n.T("Check the network; MailMover connects again on its own."), Err: err}
	}
	return err
}

// run runs f under a guard with the configured timeout.
func (c *Client) run(ctx context.Context, f func() error) error {
	g := c.newGuard(ctx, c.cfg.timeout())
	return g.done(f())
}

// limitErr returns the bound of limit.go the server broke on this connection, or nil.
func (c *Client) limitErr() *limitError {
	if c.wire == nil {
		return nil
	}
	return c.wire.limitErr()
}
