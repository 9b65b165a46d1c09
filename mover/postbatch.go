package mover

import (
	"context"
	"strconv"
	"strings"

	"mailmover/i18n"
	"mailmover/mover/journal"
	"mailmover/store"
)

// BatchSource is a Source that can also apply a post-action to many messages in one
// command (UID STORE, UID MOVE or UID EXPUNGE with a UID set): one round trip per
// committed batch instead of one per message. When the Source that Dial returns has
// these methods — *imapsrc.Client has them — the mover uses them; a Source without them
// gets one command per message.
//
// Each method must be idempotent and succeed for UIDs that are gone already (IMAP
// ignores them in a UID set). An error that is not the connection's makes the mover try
// the messages one by one, so that each failure is reported for its own message.
type BatchSource interface {
	Source
	MarkSeenUIDs(ctx context.Context, uids []uint32) error
	MoveUIDs(ctx context.Context, uids []uint32, folder string) error
	DeleteUIDs(ctx context.Context, uids []uint32) error
}

// postActionBatch applies the profile's post-action to all of uids in one command when
// the source is a BatchSource and there is more than one message. It returns true when
// that settled every message (after = "none" needs no command); false when the caller
// must apply the post-action message by message. err is set only for a connection
// error (the session ends; the messages stay committed and are finished on the next
// connection).
func (m *Mover) postActionBatch(ctx context.Context, s *session, uids []uint32) (bool, error) {
	after := m.prof.Common.After
	if after == store.AfterNone {
		for _, uid := range uids {
			if err := m.postAction(ctx, s, uid); err != nil {
				return false, err // cannot happen: none sends no command
			}
		}
		return true, nil
	}
	bs, ok := s.src.(BatchSource)
	if !ok || len(uids) < 2 {
		return false, nil
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), postActionTimeout)
	defer cancel()
	var err error
	switch after {
	case store.AfterMove:
		err = bs.MoveUIDs(pctx, uids, m.prof.Common.MoveTo)
	case store.AfterDelete:
		err = bs.DeleteUIDs(pctx, uids)
	default:
		err = bs.MarkSeenUIDs(pctx, uids)
	}
	if err != nil {
		if isConnErr(err) {
			return false, err
		}
		m.logger.Info("post-action for a batch refused; trying the messages one by one",
			"after", after, "uids", uidList(uids), "err", err)
		return false, nil
	}
	for _, uid := range uids {
		m.emit(ctx, Event{Kind: KindPostAction, UID: uid, Text: m.postActionText(uid, false)})
	}
	return true, nil
}

// postActionText is the text of the KindPostAction event of message uid: "message UID 7
// moved to Archive", "… deleted" or "… marked as read", with " (it was already gone)"
// when gone.
func (m *Mover) postActionText(uid uint32, gone bool) string {
	var s string
	switch m.prof.Common.After {
	case store.AfterMove:
		s = i18n.Sprintf("message UID %d moved to %s", uid, m.prof.Common.MoveTo)
	case store.AfterDelete:
		s = i18n.Sprintf("message UID %d deleted", uid)
	default:
		s = i18n.Sprintf("message UID %d marked as read", uid)
	}
	if gone {
		s += i18n.T(" (it was already gone)")
	}
	return s
}

// leftInMailboxText is the text of the KindSkipped event of a message leaveInMailbox
// keeps in the mailbox: nothing was saved from it, or a file of it was not written
// although its content is nowhere in the destination (on_conflict).
func leftInMailboxText(uid uint32, after string, rec *journal.MessageRecord) string {
	if rec.Incomplete != "" && len(rec.Files) > 0 {
		if after == store.AfterDelete {
			return i18n.Sprintf("message UID %d is left in the mailbox, not deleted: a part was saved with data lost (%s)", uid, rec.Incomplete)
		}
		return i18n.Sprintf("message UID %d is left in the mailbox, not moved: a part was saved with data lost (%s)", uid, rec.Incomplete)
	}
	if len(rec.Files) > 0 {
		var f *journal.FileRecord
		for i := range rec.Files {
			if !rec.Files[i].Safe() {
				f = &rec.Files[i]
				break
			}
		}
		if f != nil {
			if after == store.AfterDelete {
				return i18n.Sprintf("message UID %d is left in the mailbox, not deleted: its file %s was not written (%s) and its content is not in the destination", uid, f.Path, i18n.T(f.Skipped))
			}
			return i18n.Sprintf("message UID %d is left in the mailbox, not moved: its file %s was not written (%s) and its content is not in the destination", uid, f.Path, i18n.T(f.Skipped))
		}
	}
	if after == store.AfterDelete {
		return i18n.Sprintf("message UID %d is left in the mailbox, not deleted: nothing was saved from it", uid)
	}
	return i18n.Sprintf("message UID %d is left in the mailbox, not moved: nothing was saved from it", uid)
}

// uidList formats UIDs for a log line ("3,4,9").
func uidList(uids []uint32) string {
	parts := make([]string, len(uids))
	for i, u := range uids {
		parts[i] = strconv.FormatUint(uint64(u), 10)
	}
	return strings.Join(parts, ",")
}
