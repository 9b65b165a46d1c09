package mover

import (
	"context"
	"errors"
	"strings"
	"time"

	"mailmover/i18n"
	"mailmover/mover/journal"
	"mailmover/store"
)

// Batches: messages are fetched one by one into temporary files, then committed
// together — one journal fsync for the batch, one fsync per folder for the renames —
// before their post-actions. Each message still follows the steps of doc.go in order; a
// batch only shares the syncs. A batch is committed when it holds batchMessages
// messages or batchBytes bytes, when it is batchAge old, and at the end of a search's
// list, so that a lone new message is saved at once.
//
// One batch costs two round trips to fetch (envelopes, then bodies), one for the
// post-actions and two fsyncs (the journal, the folder): 128 small messages share them
// where 32 did, which counts on a link to Microsoft 365 or Gmail tens of milliseconds away.
const (
	batchMessages = 128
	batchBytes    = 64 << 20
	batchAge      = time.Second
)

// batch is the fetched messages waiting for their commit.
type batch struct {
	recs  []*journal.MessageRecord
	ids   map[string]bool
	bytes int64
	start time.Time
}

func (b *batch) add(rec *journal.MessageRecord) {
	if len(b.recs) == 0 {
		b.start = time.Now()
		b.ids = map[string]bool{}
	}
	b.recs = append(b.recs, rec)
	b.ids[rec.Identity] = true
	for _, f := range rec.Files {
		b.bytes += f.Bytes
	}
}

func (b *batch) full() bool {
	return len(b.recs) >= batchMessages || b.bytes >= batchBytes || (len(b.recs) > 0 && time.Since(b.start) >= batchAge)
}

func (b *batch) reset() { b.recs, b.ids, b.bytes = nil, nil, 0 }

// discard deletes the temporary files of messages not committed yet.
func (b *batch) discard(d *dest) {
	for _, rec := range b.recs {
		for _, f := range rec.Files {
			d.removeTemp(f.Temp)
		}
	}
	b.reset()
}

// outcome is what became of the messages of a step: per UID, nil (done) or the
// message's error; fatal ends the session (connection lost, stop, crash simulation).
type outcome struct {
	errs  map[uint32]error
	fatal error
}

func (o *outcome) fail(uid uint32, err error) {
	if o.errs == nil {
		o.errs = map[uint32]error{}
	}
	o.errs[uid] = err
}

// prepare fetches message uid (or, for a committed one, takes it from the state) and
// returns its record to commit, or nil when nothing is left to commit for it: it was
// filtered out, was saved before (then it is finished here), or waits for its post-action
// (finished here too).
func (m *Mover) prepare(ctx context.Context, s *session, b *batch, uid uint32) (*journal.MessageRecord, outcome) {
	if rec := s.pending[uid]; rec != nil {
		// Files already in place (or in committed temporary files) from an earlier try.
		return nil, m.finish(ctx, s, []*journal.MessageRecord{rec}, []uint32{uid})
	}
	got, err := m.fetchOne(ctx, s, uid)
	if err != nil {
		return nil, outcome{errs: map[uint32]error{uid: err}}
	}
	if got.filtered != "" {
		s.filtered[uid] = true
		m.emit(ctx, Event{Kind: KindSkipped, UID: uid, Subject: got.env.Subject, From: got.env.From,
			Text: i18n.Sprintf("message UID %d skipped: %s", uid, got.filtered)})
		return nil, outcome{}
	}
	if err := m.step(stepFetched, uid); err != nil {
		return nil, outcome{fatal: err}
	}
	if b.ids[got.identity] {
		// A copy of a message in this very batch: commit the batch first, so that this
		// one is recognised as saved.
		if o := m.commit(ctx, s, b); o.fatal != nil {
			for _, f := range got.files {
				s.dest.removeTemp(f.Temp)
			}
			return nil, o
		}
	}
	if prev := s.state.State().Messages[got.identity]; prev != nil {
		for _, f := range got.files {
			s.dest.removeTemp(f.Temp)
		}
		if prev.Status == journal.StatusCommitted {
			return nil, m.finish(ctx, s, []*journal.MessageRecord{prev}, []uint32{uid})
		}
		// The same message was saved before (another UID, an earlier UIDVALIDITY). Its
		// post-action follows the same rule as in finish: only when what it carried is
		// safely in the destination.
		var o outcome
		if leaveInMailbox(m.prof.Common.After, prev) {
			if err := s.state.MarkUID(s.folder, s.uidValidity, uid); err != nil {
				o.fail(uid, msgErr(err, ""))
				return nil, o
			}
			m.emit(ctx, Event{Kind: KindSkipped, UID: uid, Subject: got.env.Subject, From: got.env.From,
				Text: leftInMailboxText(uid, m.prof.Common.After, prev)})
			return nil, o
		}
		if err := m.postAction(ctx, s, uid); err != nil {
			o.fail(uid, err)
			return nil, o
		}
		if err := s.state.MarkUID(s.folder, s.uidValidity, uid); err != nil {
			o.fail(uid, msgErr(err, ""))
			return nil, o
		}
		m.emit(ctx, Event{Kind: KindSkipped, UID: uid, Subject: got.env.Subject, From: got.env.From,
			Text: i18n.Sprintf("message UID %d was saved before (same content as UID %d, %s); not saved again", uid, prev.UID, prev.Time.Local().Format("2006-01-02 15:04"))})
		return nil, o
	}
	if len(got.files) == 0 {
		m.emit(ctx, Event{Kind: KindSkipped, UID: uid, Subject: got.env.Subject, From: got.env.From,
			Text: i18n.Sprintf("message UID %d has nothing to save (no part matches the profile's save and attachment_mask)", uid)})
	}
	return &journal.MessageRecord{Identity: got.identity, MessageID: got.env.MessageID, Folder: s.folder, Incomplete: got.incomplete,
		UIDValidity: s.uidValidity, UID: uid, Dest: s.dest.dir, Files: got.files, Time: time.Now().UTC()}, outcome{}
}

// commit commits the batch (final names, one durable journal write) and finishes its
// messages.
func (m *Mover) commit(ctx context.Context, s *session, b *batch) outcome {
	if len(b.recs) == 0 {
		return outcome{}
	}
	// Make the temporary files durable before the commit record names them.
	var names []string
	var owner []int
	for i, rec := range b.recs {
		for _, f := range rec.Files {
			names = append(names, f.Temp)
			owner = append(owner, i)
		}
	}
	var o outcome
	bad := map[int]bool{}
	for k, err := range s.dest.syncTemps(names) {
		if err != nil && !bad[owner[k]] {
			bad[owner[k]] = true
			o.fail(b.recs[owner[k]].UID, msgErr(err, ""))
		}
	}
	// Files written in the background were hashed there: their SHA-256 is known now.
	for i, rec := range b.recs {
		for j := range rec.Files {
			f := &rec.Files[j]
			if f.SHA256 != "" || bad[i] {
				continue
			}
			if f.SHA256 = s.dest.spares.takeSum(f.Temp); f.SHA256 == "" {
				bad[i] = true
				o.fail(rec.UID, msgErr(i18n.Errorf("writing a file in %s: its content hash is missing", s.dest.dir), ""))
			}
		}
	}
	var recs []*journal.MessageRecord
	for i, rec := range b.recs {
		if bad[i] {
			for _, f := range rec.Files {
				s.dest.removeTemp(f.Temp)
			}
			continue
		}
		recs = append(recs, rec)
	}
	b.recs = recs
	if len(recs) == 0 {
		b.reset()
		return o
	}
	taken := map[string]planned{}
	for _, rec := range recs {
		s.dest.planNames(rec.Files, m.prof.Destination.OnConflict, taken)
	}
	if err := s.state.CommitAll(recs); err != nil {
		b.discard(s.dest)
		for _, rec := range recs {
			o.fail(rec.UID, msgErr(err, ""))
		}
		return o
	}
	b.reset()
	uids := make([]uint32, len(recs))
	for i, rec := range recs {
		s.pending[rec.UID] = rec
		uids[i] = rec.UID
		if err := m.step(stepCommitted, rec.UID); err != nil {
			return outcome{fatal: err}
		}
	}
	f := m.finish(ctx, s, recs, uids)
	for uid, err := range o.errs {
		f.fail(uid, err)
	}
	return f
}

// finish puts committed messages' files into place (again: every step copes with having
// been done before), syncs the folders once, applies each post-action to uids[i] and
// records the messages done.
func (m *Mover) finish(ctx context.Context, s *session, recs []*journal.MessageRecord, uids []uint32) outcome {
	var o outcome
	d := s.dest
	dirs := map[string]bool{".": true}
	placed := make([]bool, len(recs))
	for i, rec := range recs {
		err := m.placeAll(d, rec, dirs)
		if errors.Is(err, errTempGone) {
			delete(s.pending, rec.UID)
			if derr := s.state.Drop(rec.Identity); derr != nil {
				err = derr
			}
		}
		if err != nil {
			o.fail(uids[i], msgErr(err, ""))
			continue
		}
		placed[i] = true
	}
	if err := m.syncDirs(d, dirs); err != nil {
		for i := range recs {
			if placed[i] {
				o.fail(uids[i], msgErr(err, ""))
				placed[i] = false
			}
		}
	}
	for i, rec := range recs {
		if placed[i] {
			m.announce(ctx, d, rec)
		}
	}
	// The post-actions of the placed messages: one command for all of them when the
	// source can (BatchSource), else — and for any message the batch command did not
	// settle — one per message.
	var todo []uint32
	keep := make([]bool, len(recs))
	for i, rec := range recs {
		if placed[i] {
			if err := m.step(stepPlaced, uids[i]); err != nil {
				return outcome{fatal: err}
			}
			if keep[i] = leaveInMailbox(m.prof.Common.After, rec); keep[i] {
				continue
			}
			todo = append(todo, uids[i])
		}
	}
	batched, err := m.postActionBatch(ctx, s, todo)
	if err != nil {
		o.fatal = err
		return o
	}
	for i, rec := range recs {
		if !placed[i] {
			continue
		}
		uid := uids[i]
		if keep[i] {
			m.emit(ctx, Event{Kind: KindSkipped, UID: uid,
				Text: leftInMailboxText(uid, m.prof.Common.After, rec)})
		} else if !batched {
			if err := m.postAction(ctx, s, uid); err != nil {
				if isConnErr(err) {
					o.fatal = err
					return o
				}
				o.fail(uid, err)
				continue
			}
		}
		if err := m.step(stepPostAction, uid); err != nil {
			return outcome{fatal: err}
		}
		delete(s.pending, rec.UID)
		rec.UID, rec.UIDValidity, rec.Folder = uid, s.uidValidity, s.folder
		if err := s.state.Done(rec); err != nil {
			o.fatal = &errLocal{err}
			return o
		}
		m.cnt.Messages++
		m.emit(ctx, Event{Kind: KindMessageDone, UID: uid, Text: i18n.Sprintf("message UID %d done", uid)})
		if err := m.step(stepDone, uid); err != nil {
			return outcome{fatal: err}
		}
	}
	return o
}

// placeAll renames a committed message's temporary files to their final names (no sync)
// and notes their folders in dirs. Files placed in an earlier try are recognised.
func (m *Mover) placeAll(d *dest, rec *journal.MessageRecord, dirs map[string]bool) error {
	for i := range rec.Files {
		f := &rec.Files[i]
		if f.Temp == "" {
			continue // placed in an earlier try
		}
		if err := d.place(f, m.prof.Destination.OnConflict); err != nil {
			return i18n.Errorf("putting %s into place: %w", d.abs(f.Path), err)
		}
		if f.Skipped == "" {
			dirs[parentDir(f.Path)] = true
		}
	}
	return nil
}

func (m *Mover) syncDirs(d *dest, dirs map[string]bool) error {
	for dir := range dirs {
		if err := d.syncDir(dir); err != nil {
			return err
		}
	}
	return nil
}

// announce sends the saved and skipped events of a placed message and counts its files;
// it clears the temporary names (the files are durable under their final names now).
func (m *Mover) announce(ctx context.Context, d *dest, rec *journal.MessageRecord) {
	for i := range rec.Files {
		f := &rec.Files[i]
		if f.Temp == "" {
			continue
		}
		f.Temp = ""
		if f.Skipped != "" {
			m.emit(ctx, Event{Kind: KindSkipped, UID: rec.UID, Path: d.abs(f.Path), Text: i18n.Sprintf("file %s not written: %s", d.abs(f.Path), i18n.T(f.Skipped))})
			continue
		}
		m.cnt.Files++
		m.cnt.Bytes += f.Bytes
		m.emit(ctx, Event{Kind: KindFileSaved, UID: rec.UID, Path: d.abs(f.Path), Bytes: f.Bytes,
			Text: i18n.Sprintf("saved %s (%d bytes)", d.abs(f.Path), f.Bytes)})
	}
}

// placeFiles puts one committed message's files into place and syncs their folders
// (recovery before connecting).
func (m *Mover) placeFiles(ctx context.Context, d *dest, rec *journal.MessageRecord) error {
	dirs := map[string]bool{".": true}
	if err := m.placeAll(d, rec, dirs); err != nil {
		return err
	}
	if err := m.syncDirs(d, dirs); err != nil {
		return err
	}
	m.announce(ctx, d, rec)
	return nil
}

func parentDir(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return "."
}

// leaveInMailbox says whether a message stays where it is instead of getting the
// post-action: a message whose content is not safely in the destination
// (journal.MessageRecord.ContentSafe: nothing was saved, or a file was skipped or replaced
// by on_conflict although its content is nowhere else) is never moved or deleted — that
// would lose mail nobody has seen in the destination. It is still recorded as done, so it
// is not fetched again; marking it read ("seen") is harmless and still happens. Every
// path that applies a post-action asks this first: finish, and the identity check of
// prepare (a message saved before).
func leaveInMailbox(after string, rec *journal.MessageRecord) bool {
	return !rec.ContentSafe() && (after == store.AfterMove || after == store.AfterDelete)
}
