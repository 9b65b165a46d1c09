package imapsrc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"

	"mailmover/i18n"
)

// maxUIDsPerCommand caps how many UIDs one command names, so that a command line stays
// far below the servers' limits (Dovecot: 64 KiB) however scattered the UIDs are. Larger
// sets are sent as several commands.
const maxUIDsPerCommand = 500

// uidSets sorts and de-duplicates uids (without changing the caller's slice) and splits
// them into sets of at most maxUIDsPerCommand UIDs. UID 0 names no message (UIDs start at
// 1) and is dropped: go-imap would send it as "*", the folder's last message.
func uidSets(uids []uint32) []imap.UIDSet {
	sorted := slices.Clone(uids)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	if len(sorted) > 0 && sorted[0] == 0 {
		sorted = sorted[1:]
	}
	var sets []imap.UIDSet
	for chunk := range slices.Chunk(sorted, maxUIDsPerCommand) {
		var set imap.UIDSet
		for _, uid := range chunk {
			set.AddNum(imap.UID(uid))
		}
		sets = append(sets, set)
	}
	return sets
}

// describeUIDs names a set for an error text: "UID 7" or "UIDs 3:5,9".
func describeUIDs(set imap.UIDSet) string {
	if len(set) == 1 && set[0].Start == set[0].Stop {
		return fmt.Sprintf("UID %d", set[0].Start)
	}
	return "UIDs " + set.String()
}

// MarkSeen sets \Seen on uid.
func (c *Client) MarkSeen(ctx context.Context, uid uint32) error {
	return c.MarkSeenUIDs(ctx, []uint32{uid})
}

// MarkSeenUIDs sets \Seen on all of uids with one UID STORE +FLAGS.SILENT. UIDs that are
// gone already are ignored (as the server ignores them); an empty uids sends nothing.
func (c *Client) MarkSeenUIDs(ctx context.Context, uids []uint32) error {
	for _, set := range uidSets(uids) {
		if err := c.addFlag(ctx, set, imap.FlagSeen, i18n.Key("mark seen %s")); err != nil {
			return err
		}
	}
	return nil
}

// addFlag adds flag to set; op names the operation for an error, a text to translate
// with the set's description for its %s.
func (c *Client) addFlag(ctx context.Context, set imap.UIDSet, flag imap.Flag, op string) error {
	store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{flag}}
	err := c.run(ctx, func() error { return c.ic.Store(set, store, nil).Close() })
	if err != nil {
		return classifyNet(ctx, c.cfg.addr(), i18n.Sprintf(op, describeUIDs(set)), err)
	}
	return nil
}

// Move moves uid to folder: with MOVE when the server offers it, else COPY, \Deleted and
// UID EXPUNGE (a bare EXPUNGE, with a warning, only when the server lacks UIDPLUS). A
// missing target folder is an *Error of KindFolder, unless Config.CreateMoveTarget is set:
// then the folder is created and the move tried once more.
func (c *Client) Move(ctx context.Context, uid uint32, folder string) error {
	return c.MoveUIDs(ctx, []uint32{uid}, folder)
}

// MoveUIDs moves all of uids to folder in one command, as Move does for one message:
// UID MOVE, or UID COPY, UID STORE \Deleted and UID EXPUNGE of the set (a bare EXPUNGE,
// with a warning, only when the server lacks UIDPLUS). UIDs that are gone already are
// ignored; an empty uids sends nothing. A missing target folder is handled as by Move.
func (c *Client) MoveUIDs(ctx context.Context, uids []uint32, folder string) error {
	for _, set := range uidSets(uids) {
		if err := c.moveSet(ctx, set, folder); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) moveSet(ctx context.Context, set imap.UIDSet, folder string) error {
	err := c.move(ctx, set, folder)
	if isMissingFolder(err) && c.cfg.CreateMoveTarget && ctx.Err() == nil {
		c.log.Info("creating the missing move target folder", "folder", folder)
		if cerr := c.CreateFolder(ctx, folder); cerr != nil {
			return cerr
		}
		err = c.move(ctx, set, folder)
	}
	if err == nil {
		return nil
	}
	op := i18n.Sprintf("move %s to %s", describeUIDs(set), quote(folder))
	var ie *imap.Error
	if isMissingFolder(err) && errors.As(err, &ie) {
		return &Error{Kind: KindFolder, Host: c.cfg.addr(), Op: op,
			Reason: i18n.Sprintf("the target folder %s does not exist (%s)", quote(folder), serverText(ie)),
			Advice: i18n.T("Create the folder on the server, or fix [common] move_to ('mailmover check' lists the folders)."),
			Err:    err}
	}
	return classifyNet(ctx, c.cfg.addr(), op, err)
}

func (c *Client) move(ctx context.Context, set imap.UIDSet, folder string) error {
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
	if err := c.addFlag(ctx, set, imap.FlagDeleted, i18n.Key("delete %s")); err != nil {
		return err
	}
	return c.expunge(ctx, set)
}

// Delete sets \Deleted on uid and removes it with UID EXPUNGE (bare EXPUNGE, with a
// warning, only when the server lacks UIDPLUS).
func (c *Client) Delete(ctx context.Context, uid uint32) error {
	return c.DeleteUIDs(ctx, []uint32{uid})
}

// DeleteUIDs sets \Deleted on all of uids with one UID STORE and removes them with one
// UID EXPUNGE of the set (bare EXPUNGE, with a warning, only when the server lacks
// UIDPLUS). UIDs that are gone already are ignored; an empty uids sends nothing.
func (c *Client) DeleteUIDs(ctx context.Context, uids []uint32) error {
	for _, set := range uidSets(uids) {
		if err := c.addFlag(ctx, set, imap.FlagDeleted, i18n.Key("delete %s")); err != nil {
			return err
		}
		if err := c.expunge(ctx, set); err != nil {
			return err
		}
	}
	return nil
}

func (c *Client) expunge(ctx context.Context, set imap.UIDSet) error {
	var err error
	if c.caps.Has(imap.CapUIDPlus) {
		err = c.run(ctx, func() error { return c.ic.UIDExpunge(set).Close() })
	} else {
		c.log.Warn("the server lacks UIDPLUS: EXPUNGE also removes other messages flagged \\Deleted in the folder",
			"host", c.cfg.addr(), "folder", c.mailbox.Name)
		err = c.run(ctx, func() error { return c.ic.Expunge().Close() })
	}
	if err != nil {
		return classifyNet(ctx, c.cfg.addr(), "expunge "+describeUIDs(set), err)
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
	return strings.Contains(t, "doesn't exist") || strings.Contains(t, "does not exist") || // i18n:keep (the server's words)
		strings.Contains(t, "no such") || strings.Contains(t, "not found") // i18n:keep
}
