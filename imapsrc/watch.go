package imapsrc

import (
	"context"
	"time"

	"github.com/emersion/go-imap/v2"

	"mailmover/i18n"
)

// DefaultPoll is the poll interval WaitForMail uses when given none.
const DefaultPoll = 60 * time.Second

// WaitForMail blocks until new mail may have arrived: with idle true it uses IDLE
// (re-issued before 29 minutes) when the server offers it, else it waits poll. It returns
// nil when it is time to search again, ctx.Err() when cancelled.
//
// With IDLE it returns when the server reports EXISTS, and after Config.IdleRestart
// (25 minutes by default), so that the caller searches again and the next call issues a
// fresh IDLE well before the 30-minute limit of RFC 9051. When polling it sends NOOP after
// each interval, which also notices a dead connection (then an *Error of KindNetwork).
func (c *Client) WaitForMail(ctx context.Context, idle bool, poll time.Duration) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	select {
	case <-c.newMail: // arrived since the last search
		return nil
	default:
	}
	if idle && c.caps.Has(imap.CapIdle) {
		return c.idle(ctx)
	}
	if poll <= 0 {
		poll = DefaultPoll
	}
	t := time.NewTimer(poll)
	defer t.Stop()
	c.wire.setBudget(maxIdleData, i18n.Sprintf("the server sent more than %d MiB between two polls", maxIdleData>>20))
	select {
	case <-ctx.Done():
		c.wire.clearBudget()
		return ctx.Err()
	case <-c.newMail:
		c.wire.clearBudget()
		return nil
	case <-c.ic.Closed():
		if le := c.limitErr(); le != nil {
			return le.asError(c.cfg.addr(), i18n.T("wait"))
		}
		return &Error{Kind: KindNetwork, Host: c.cfg.addr(), Op: i18n.T("wait"), Reason: i18n.T("the server closed the connection")}
	case <-t.C:
	}
	c.wire.clearBudget()
	if err := c.run(ctx, func() error { return c.ic.Noop().Wait() }); err != nil {
		return classifyNet(ctx, c.cfg.addr(), "noop", err)
	}
	return nil
}

func (c *Client) idleRestart() time.Duration {
	if c.cfg.IdleRestart > 0 {
		return c.cfg.IdleRestart
	}
	return DefaultIdleRestart
}

func (c *Client) idle(ctx context.Context) error {
	// What the server sends during IDLE is bounded in volume here, and each response in
	// time by the wire (limit.go): noise cannot keep the IDLE going until its restart.
	c.wire.setBudget(maxIdleData, i18n.Sprintf("the server sent more than %d MiB during IDLE without reporting new mail", maxIdleData>>20))
	defer c.wire.clearBudget()
	var cmd idler
	if err := c.run(ctx, func() error {
		ic, err := c.ic.Idle()
		cmd = ic
		return err
	}); err != nil {
		return classifyNet(ctx, c.cfg.addr(), "idle", err)
	}
	t := time.NewTimer(c.idleRestart())
	defer t.Stop()
	var result error
	select {
	case <-ctx.Done():
		// End IDLE politely so the connection stays usable; give it two seconds.
		g := c.newGuard(context.Background(), 2*time.Second)
		if g.done(stopIdle(cmd)) != nil {
			c.closeNow()
		}
		return ctx.Err()
	case <-c.ic.Closed():
		if le := c.limitErr(); le != nil {
			return le.asError(c.cfg.addr(), "idle")
		}
		return &Error{Kind: KindNetwork, Host: c.cfg.addr(), Op: "idle", Reason: i18n.T("the server closed the connection"),
			Advice: i18n.T("MailMover connects again on its own.")}
	case <-c.newMail:
	case <-t.C:
	}
	if err := c.run(ctx, func() error { return stopIdle(cmd) }); err != nil {
		result = classifyNet(ctx, c.cfg.addr(), "idle", err)
	}
	return result
}

type idler interface {
	Close() error
	Wait() error
}

func stopIdle(cmd idler) error {
	if err := cmd.Close(); err != nil {
		return err
	}
	return cmd.Wait()
}
