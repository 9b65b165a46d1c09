package imapsrc

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// MarkSeen sets \Seen on uid.
func (c *Client) MarkSeen(ctx context.Context, uid uint32) error {
	return c.addFlag(ctx, uid, imap.FlagSeen, "mark seen")
}

func (c *Client) addFlag(ctx context.Context, uid uint32, flag imap.Flag, op string) error {
	store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{flag}}
	err := c.run(ctx, func() error { return c.ic.Store(imap.UIDSetNum(imap.UID(uid)), store, nil).Close() })
	if err != nil {
		return classifyNet(ctx, c.cfg.addr(), fmt.Sprintf("%s UID %d", op, uid), err)
	}
	return nil
}

// Move moves uid to folder: with MOVE when the server offers it, else COPY, \Deleted and
// UID EXPUNGE (a bare EXPUNGE, with a warning, only when the server lacks UIDPLUS). A
// missing target folder is an *Error of KindFolder, unless Config.CreateMoveTarget is set:
// then the folder is created and the move tried once more.
func (c *Client) Move(ctx context.Context, uid uint32, folder string) error {
	err := c.move(ctx, uid, folder)
	if isMissingFolder(err) && c.cfg.CreateMoveTarget && ctx.Err() == nil {
		c.log.Info("creating the missing move target folder", "folder", folder)
		if cerr := c.CreateFolder(ctx, folder); cerr != nil {
			return cerr
		}
		err = c.move(ctx, uid, folder)
	}
	if err == nil {
		return nil
	}
	op := fmt.Sprintf("move UID %d to %s", uid, quote(folder))
	var ie *imap.Error
	if isMissingFolder(err) && errors.As(err, &ie) {
		return &Error{Kind: KindFolder, Host: c.cfg.addr(), Op: op,
			Reason: fmt.Sprintf("the target folder %s does not exist (%s)", quote(folder), serverText(ie)),
			Advice: "Create the folder on the server, or fix [common] move_to ('mailmover check' lists the folders).",
			Err:    err}
	}
	return classifyNet(ctx, c.cfg.addr(), op, err)
}

func (c *Client) move(ctx context.Context, uid uint32, folder string) error {
	set := imap.UIDSetNum(imap.UID(uid))
	if c.caps.Has(imap.CapMove) {
		return c.run(ctx, func() error {
			_, err := c.ic.Move(set, folder).Wait()
			return err
		})
	}
	if err := c.run(ctx, func() error {
		_, err := c.ic.Copy(set, folder).Wait()
		return err
	}); err != nil {
		return err
	}
	if err := c.addFlag(ctx, uid, imap.FlagDeleted, "delete"); err != nil {
		return err
	}
	return c.expunge(ctx, uid)
}

// Delete sets \Deleted on uid and removes it with UID EXPUNGE (bare EXPUNGE, with a
// warning, only when the server lacks UIDPLUS).
func (c *Client) Delete(ctx context.Context, uid uint32) error {
	if err := c.addFlag(ctx, uid, imap.FlagDeleted, "delete"); err != nil {
		return err
	}
	return c.expunge(ctx, uid)
}

func (c *Client) expunge(ctx context.Context, uid uint32) error {
	var err error
	if c.caps.Has(imap.CapUIDPlus) {
		err = c.run(ctx, func() error { return c.ic.UIDExpunge(imap.UIDSetNum(imap.UID(uid))).Close() })
	} else {
		c.log.Warn("the server lacks UIDPLUS: EXPUNGE also removes other messages flagged \\Deleted in the folder",
			"host", c.cfg.addr(), "folder", c.mailbox.Name)
		err = c.run(ctx, func() error { return c.ic.Expunge().Close() })
	}
	if err != nil {
		return classifyNet(ctx, c.cfg.addr(), fmt.Sprintf("expunge UID %d", uid), err)
	}
	return nil
}

// isMissingFolder recognises "no such folder" answers to COPY/MOVE.
func isMissingFolder(err error) bool {
	var ie *imap.Error
	if !errors.As(err, &ie) || ie.Type != imap.StatusResponseTypeNo {
		return false
	}
	if ie.Code == imap.ResponseCodeTryCreate || ie.Code == imap.ResponseCodeNonExistent {
		return true
	}
	t := strings.ToLower(ie.Text)
	return strings.Contains(t, "doesn't exist") || strings.Contains(t, "does not exist") ||
		strings.Contains(t, "no such") || strings.Contains(t, "not found")
}
