// Package journal is the mover's checkpoint of one profile: which messages are done,
// what was written for each, and which failed — a snapshot plus an append-only journal,
// read and written only under the profile's lock (store.LockProfile). The exactly-once
// protocol that uses it is described in package mover.
package journal

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"time"

	"mailmover/i18n"
	"mailmover/internal/durable"
	"mailmover/store"
)

// The mover's checkpoint of one profile lives in HOME/state: NAME.json is a snapshot,
// NAME.journal holds the records appended since (one JSON object a line, fsynced where the
// mover's protocol needs it, see package mover), and NAME.lock is held (flock) while a
// mover works on the profile. Opening replays the journal over the snapshot; Compact
// writes a new snapshot atomically (temporary file, fsync, rename, fsync of the folder)
// and empties the journal. Records carry a sequence number, so replaying a journal whose
// records are already in the snapshot changes nothing.

// StateVersion is the version of the state file format.
const StateVersion = 1

// Message statuses in MessageRecord.Status.
const (
	// StatusCommitted: the message's files are in temporary files (or already renamed
	// into place); the post-action and the "done" record may still be missing.
	StatusCommitted = "committed"
	// StatusDone: files in place, post-action applied.
	StatusDone = "done"
)

// State is the checkpoint of one profile.
type State struct {
	Version int    `json:"version"`
	Profile string `json:"profile"`
	// Seq is the sequence number of the last journal record contained in this state.
	Seq uint64 `json:"seq"`
	// Mailboxes holds, per folder and UIDVALIDITY, which UIDs are done.
	Mailboxes []*MailboxState `json:"mailboxes"`
	// Messages holds what was written per message, keyed by the message's content
	// identity (see MessageRecord.Identity).
	Messages map[string]*MessageRecord `json:"messages"`
}

// MailboxState says which UIDs of one folder (at one UIDVALIDITY) are done.
type MailboxState struct {
	Folder      string `json:"folder"`
	UIDValidity uint32 `json:"uidvalidity"`
	// Filter is a fingerprint of the search settings under which Mark was reached; when
	// they change the mark starts again from 0 (content identities still prevent saving a
	// message twice).
	Filter string `json:"filter"`
	// Mark: every UID <= Mark is done or was not wanted by the search.
	Mark uint32 `json:"mark"`
	// Done lists the done UIDs above Mark, ascending.
	Done []uint32 `json:"done,omitempty"`
	// Failed lists the messages that failed and are not done, ascending by UID: how often,
	// why, when they may be tried again, and whether they are set aside (not tried again
	// until RetryFailed). A set-aside message does not hold the mark back.
	Failed []FailedMessage `json:"failed,omitempty"`
}

// FailedMessage is a message of a folder that failed (broken MIME, a refused command):
// it is tried again with growing waits, and set aside after MaxFailures failures.
type FailedMessage struct {
	UID    uint32    `json:"uid"`
	Count  int       `json:"count"`
	Reason string    `json:"reason,omitempty"`
	Next   time.Time `json:"next"`
	Aside  bool      `json:"aside,omitempty"`
}

// MaxFailures is how often a message may fail before it is set aside.
const MaxFailures = 6

// RetryWait is how long a message that failed count times waits before it is tried
// again: not at all after the first failure (the next pass tries it), then 2 minutes,
// five times longer each time after (2m, 10m, 50m, 4h10m); at the sixth failure, about
// five hours after the first, it is set aside.
func RetryWait(count int) time.Duration {
	if count <= 1 {
		return 0
	}
	d := 2 * time.Minute
	for i := 2; i < count && d < 12*time.Hour; i++ {
		d *= 5
	}
	return min(d, 12*time.Hour)
}

// Failure returns uid's failure record, or nil.
func (b *MailboxState) Failure(uid uint32) *FailedMessage {
	i, ok := slices.BinarySearchFunc(b.Failed, uid, func(f FailedMessage, u uint32) int { return cmp.Compare(f.UID, u) })
	if !ok {
		return nil
	}
	return &b.Failed[i]
}

func (b *MailboxState) setFailure(f FailedMessage) {
	i, ok := slices.BinarySearchFunc(b.Failed, f.UID, func(g FailedMessage, u uint32) int { return cmp.Compare(g.UID, u) })
	if ok {
		b.Failed[i] = f
		return
	}
	b.Failed = slices.Insert(b.Failed, i, f)
}

func (b *MailboxState) clearFailure(uid uint32) {
	b.Failed = slices.DeleteFunc(b.Failed, func(f FailedMessage) bool { return f.UID == uid })
	if len(b.Failed) == 0 {
		b.Failed = nil
	}
}

// IsDone reports whether uid is done.
func (b *MailboxState) IsDone(uid uint32) bool {
	if uid <= b.Mark {
		return true
	}
	_, ok := slices.BinarySearch(b.Done, uid)
	return ok
}

func (b *MailboxState) addDone(uid uint32) {
	b.clearFailure(uid)
	if uid <= b.Mark {
		return
	}
	i, ok := slices.BinarySearch(b.Done, uid)
	if !ok {
		b.Done = slices.Insert(b.Done, i, uid)
	}
}

func (b *MailboxState) setMark(mark uint32) {
	if mark <= b.Mark {
		return
	}
	b.Mark = mark
	i, _ := slices.BinarySearch(b.Done, mark+1)
	b.Done = slices.Clone(b.Done[i:])
}

// MessageRecord is what the mover wrote for one message.
type MessageRecord struct {
	// Identity is the message's content identity: the SHA-256 of its raw bytes (hex). The
	// same message under a new UIDVALIDITY, or found again by search = "all", has it too.
	Identity    string       `json:"id"`
	MessageID   string       `json:"message_id,omitempty"`
	Folder      string       `json:"folder"`
	UIDValidity uint32       `json:"uidvalidity"`
	UID         uint32       `json:"uid"`
	Status      string       `json:"status"`
	Dest        string       `json:"dest"` // absolute destination folder
	Files       []FileRecord `json:"files,omitempty"`
	Time        time.Time    `json:"time"`
	// Incomplete says why a part of the message was saved with data lost (e.g. base64
	// text after the end of its data): its content is not safely in the destination.
	Incomplete string `json:"incomplete,omitempty"`
}

// FileRecord is one file of a message.
type FileRecord struct {
	// Temp is the temporary file (a name in Dest) the content was written to; set while
	// the message is committed, cleared when done.
	Temp string `json:"temp,omitempty"`
	// Path is the final name, slash-separated, relative to Dest.
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
	// Skipped says why the file was not written (e.g. on_conflict = "skip").
	Skipped string `json:"skipped,omitempty"`
	// Same is set with Skipped when the file was not written because a file with the
	// same content (SHA-256) is already in the destination: its content is safe.
	Same bool `json:"same,omitempty"`
}

// Safe reports whether the file's content is in the destination: written, or not
// written because the same content is there already.
func (f *FileRecord) Safe() bool { return f.Skipped == "" || f.Same }

// ContentSafe reports whether everything MailMover was to save from the message is in
// the destination: at least one file, every file Safe, nothing decoded with data lost
// (Incomplete). Only then may the message be
// moved or deleted; a message with nothing saved, or with a file skipped or replaced
// although its content is nowhere else, stays in the mailbox.
func (m *MessageRecord) ContentSafe() bool {
	if len(m.Files) == 0 || m.Incomplete != "" {
		return false
	}
	for i := range m.Files {
		if !m.Files[i].Safe() {
			return false
		}
	}
	return true
}

// Journal operations.
const (
	opCommit  = "commit"  // Msg committed (files planned and in temporary files)
	opDone    = "done"    // Msg done; its UID done
	opUID     = "uid"     // Folder/UIDValidity/UID done (a message already saved before)
	opMark    = "mark"    // Folder/UIDValidity mark raised
	opMailbox = "mailbox" // Folder/UIDValidity seen under Filter
	opDrop    = "drop"    // Msg (by identity) forgotten: its commit was abandoned
	opFail    = "fail"    // Folder/UIDValidity/UID failed (Failure holds the new record)
	opUnfail  = "unfail"  // Folder/UIDValidity/UID's failure forgotten (the message is gone)
	opRetry   = "retry"   // every failed message is to be tried again at once
)

type journalRecord struct {
	Seq         uint64         `json:"seq"`
	Op          string         `json:"op"`
	Msg         *MessageRecord `json:"msg,omitempty"`
	Folder      string         `json:"folder,omitempty"`
	UIDValidity uint32         `json:"uidvalidity,omitempty"`
	UID         uint32         `json:"uid,omitempty"`
	Mark        uint32         `json:"mark,omitempty"`
	Filter      string         `json:"filter,omitempty"`
	Failure     *FailedMessage `json:"failure,omitempty"`
}

func newState(profile string) *State {
	return &State{Version: StateVersion, Profile: profile, Messages: map[string]*MessageRecord{}}
}

// Mailbox returns the state of folder at uidValidity, or nil.
func (s *State) Mailbox(folder string, uidValidity uint32) *MailboxState {
	for _, b := range s.Mailboxes {
		if b.Folder == folder && b.UIDValidity == uidValidity {
			return b
		}
	}
	return nil
}

func (s *State) mailbox(folder string, uidValidity uint32) *MailboxState {
	if b := s.Mailbox(folder, uidValidity); b != nil {
		return b
	}
	b := &MailboxState{Folder: folder, UIDValidity: uidValidity}
	s.Mailboxes = append(s.Mailboxes, b)
	return b
}

// IsDone reports whether the UID is done.
func (s *State) IsDone(folder string, uidValidity, uid uint32) bool {
	b := s.Mailbox(folder, uidValidity)
	return b != nil && b.IsDone(uid)
}

// Pending returns the committed messages that are not done yet, in no particular order.
func (s *State) Pending() []*MessageRecord {
	var out []*MessageRecord
	for _, m := range s.Messages {
		if m.Status == StatusCommitted {
			out = append(out, m)
		}
	}
	return out
}

func cloneMsg(m *MessageRecord) *MessageRecord {
	c := *m
	c.Files = slices.Clone(m.Files)
	return &c
}

func (s *State) apply(r *journalRecord) error {
	switch r.Op {
	case opCommit, opDone:
		if r.Msg == nil || r.Msg.Identity == "" {
			return i18n.Errorf("record %d (%s) has no message", r.Seq, r.Op)
		}
		m := cloneMsg(r.Msg)
		s.Messages[m.Identity] = m
		if r.Op == opDone {
			s.mailbox(m.Folder, m.UIDValidity).addDone(m.UID)
		}
	case opDrop:
		if r.Msg != nil {
			delete(s.Messages, r.Msg.Identity)
		}
	case opUID:
		s.mailbox(r.Folder, r.UIDValidity).addDone(r.UID)
	case opMark:
		s.mailbox(r.Folder, r.UIDValidity).setMark(r.Mark)
	case opMailbox:
		if s.Mailbox(r.Folder, r.UIDValidity) == nil {
			// A new UIDVALIDITY renumbered the folder: what was recorded under the
			// old one can never matter again.
			s.Mailboxes = slices.DeleteFunc(s.Mailboxes, func(b *MailboxState) bool { return b.Folder == r.Folder })
		}
		b := s.mailbox(r.Folder, r.UIDValidity)
		if b.Filter != r.Filter {
			b.Filter, b.Mark, b.Done, b.Failed = r.Filter, 0, nil, nil
		}
	case opFail:
		if r.Failure == nil {
			return i18n.Errorf("record %d (%s) has no failure", r.Seq, r.Op)
		}
		s.mailbox(r.Folder, r.UIDValidity).setFailure(*r.Failure)
	case opUnfail:
		s.mailbox(r.Folder, r.UIDValidity).clearFailure(r.UID)
	case opRetry:
		for _, b := range s.Mailboxes {
			for i := range b.Failed {
				b.Failed[i].Count, b.Failed[i].Aside, b.Failed[i].Next = 0, false, time.Time{}
			}
		}
	default:
		return i18n.Errorf("record %d has an unknown operation %q", r.Seq, r.Op)
	}
	if r.Seq > s.Seq {
		s.Seq = r.Seq
	}
	return nil
}

// Retention is how long the content identity of a done message is kept. Within it, the
// same message found again — under a new UIDVALIDITY, after a filter change, or with
// search = "all" — is recognised and not saved twice; after it, such a message would be
// saved again (never lost). Which UIDs are done is kept as long as the folder's
// UIDVALIDITY stays, in a mark and a short list.
const Retention = 400 * 24 * time.Hour

// prune drops what can no longer matter, so that the state does not grow without bound:
// done messages older than Retention. (Mailboxes of an old UIDVALIDITY go when a new
// one is first used.) Committed messages are always kept.
func (s *State) prune(now time.Time) {
	for id, m := range s.Messages {
		if m.Status == StatusDone && now.Sub(m.Time) > Retention {
			delete(s.Messages, id)
		}
	}
}

// StateFile is the open, locked checkpoint of one profile. It is not safe for concurrent
// use; one mover owns it.
type StateFile struct {
	home, profile string
	lock          *store.ProfileLock
	journal       *os.File
	st            *State
	records       int // records in the journal
	dirty         bool
}

// Open locks profile's state (failing at once with store.ErrStateLocked when another
// mover holds it), loads the snapshot and replays the journal. A torn last journal line
// (a crash during an append) is ignored.
func Open(home, profile string) (*StateFile, error) {
	lock, err := store.LockProfile(home, profile)
	if err != nil {
		return nil, err
	}
	st, n, err := readState(home, profile)
	if err != nil {
		lock.Unlock()
		return nil, err
	}
	j, err := os.OpenFile(store.JournalPath(home, profile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		lock.Unlock()
		return nil, i18n.Errorf("opening the state journal: %w", err)
	}
	sf := &StateFile{home: home, profile: profile, lock: lock, journal: j, st: st, records: n}
	// Drop a torn tail so that new records start on a fresh line.
	if err := sf.trimJournal(); err != nil {
		sf.Close()
		return nil, err
	}
	return sf, nil
}

// Load reads profile's state without locking it (for display; a running mover may
// change it at any time). A missing state is an empty one.
func Load(home, profile string) (*State, error) {
	if err := store.ValidProfileName(profile); err != nil {
		return nil, err
	}
	st, _, err := readState(home, profile)
	return st, err
}

func readState(home, profile string) (*State, int, error) {
	st := newState(profile)
	path := store.StatePath(home, profile)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, 0, i18n.Errorf("reading the state %s: %w", path, err)
	default:
		if err := json.Unmarshal(data, st); err != nil {
			return nil, 0, i18n.Errorf("the state %s is damaged (%v): move it away to start over ('mailmover forget -profile %s' does so, and mail is then processed again)", path, err, profile)
		}
		if st.Version != StateVersion {
			return nil, 0, i18n.Errorf("the state %s has version %d; this mailmover reads version %d", path, st.Version, StateVersion)
		}
		if st.Messages == nil {
			st.Messages = map[string]*MessageRecord{}
		}
	}
	n, err := replayJournal(store.JournalPath(home, profile), st)
	if err != nil {
		return nil, 0, err
	}
	return st, n, nil
}

func replayJournal(path string, st *State) (int, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, i18n.Errorf("reading the state journal %s: %w", path, err)
	}
	n := 0
	// Only lines ended by a newline count. An append writes its record and the newline
	// in one write, and a commit returns (and the mover goes on) only after that write
	// is synced: a last line without its newline is an append that a crash cut — even
	// when what made it to disk happens to be complete JSON — and it never counted.
	// trimJournal cuts exactly this tail, so replay and repair agree and a later crash
	// cannot lose a record that a run acted on.
	lines := bytes.Split(data, []byte("\n"))
	lines = lines[:len(lines)-1] // the part after the last newline: empty, or torn
	for i, line := range lines {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r journalRecord
		if err := json.Unmarshal(line, &r); err != nil {
			return 0, i18n.Errorf("the state journal %s is damaged at line %d: %v", path, i+1, err)
		}
		n++
		if r.Seq <= st.Seq {
			continue // already in the snapshot
		}
		if err := st.apply(&r); err != nil {
			return 0, i18n.Errorf("the state journal %s: %w", path, err)
		}
	}
	return n, nil
}

// trimJournal cuts the journal after its last complete line.
func (s *StateFile) trimJournal() error {
	data, err := io.ReadAll(io.NewSectionReader(s.journal, 0, 1<<62))
	if err != nil {
		return i18n.Errorf("reading the state journal: %w", err)
	}
	keep := int64(bytes.LastIndexByte(data, '\n') + 1)
	if keep != int64(len(data)) {
		if err := s.journal.Truncate(keep); err != nil {
			return i18n.Errorf("repairing the state journal: %w", err)
		}
	}
	_, err = s.journal.Seek(keep, io.SeekStart)
	return err
}

// State returns the current state. The caller must not change it.
func (s *StateFile) State() *State { return s.st }

func (s *StateFile) append(r *journalRecord, sync bool) error {
	r.Seq = s.st.Seq + 1
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	off, err := s.journal.Seek(0, io.SeekCurrent)
	if err != nil {
		return i18n.Errorf("writing the state journal: %w", err)
	}
	if _, err := s.journal.Write(line); err != nil {
		// Take back a partial line, so that later records do not follow a torn one.
		s.journal.Truncate(off)
		s.journal.Seek(off, io.SeekStart)
		return i18n.Errorf("writing the state journal: %w; check the free space of %s", err, store.StateDir(s.home))
	}
	if sync {
		if err := s.journal.Sync(); err != nil {
			return i18n.Errorf("syncing the state journal: %w", err)
		}
	}
	s.records++
	s.dirty = true
	return s.st.apply(r)
}

// Sync makes every record appended so far durable.
func (s *StateFile) Sync() error { return s.journal.Sync() }

// Commit records (durably, before it returns) that msg's files are planned, with their
// temporary and final names.
func (s *StateFile) Commit(msg *MessageRecord) error { return s.CommitAll([]*MessageRecord{msg}) }

// CommitAll commits several messages with one durable write.
func (s *StateFile) CommitAll(msgs []*MessageRecord) error {
	for i, msg := range msgs {
		m := cloneMsg(msg)
		m.Status = StatusCommitted
		if err := s.append(&journalRecord{Op: opCommit, Msg: m}, i == len(msgs)-1); err != nil {
			return err
		}
	}
	return nil
}

// Done records that msg is done (its files in place, its post-action applied) and its
// UID done. It is made durable with the next synced record or Sync: losing it in a crash
// only means the (idempotent) post-action is applied again.
func (s *StateFile) Done(msg *MessageRecord) error {
	m := cloneMsg(msg)
	m.Status = StatusDone
	for i := range m.Files {
		m.Files[i].Temp = ""
	}
	if err := s.append(&journalRecord{Op: opDone, Msg: m}, false); err != nil {
		return err
	}
	return s.maybeCompact()
}

// Drop forgets a committed message whose files were never put in place.
func (s *StateFile) Drop(identity string) error {
	return s.append(&journalRecord{Op: opDrop, Msg: &MessageRecord{Identity: identity}}, true)
}

// MarkUID records uid as done without a message record (a message saved before).
func (s *StateFile) MarkUID(folder string, uidValidity, uid uint32) error {
	return s.append(&journalRecord{Op: opUID, Folder: folder, UIDValidity: uidValidity, UID: uid}, false)
}

// Fail records that message uid of the folder failed at now for reason: its count goes
// up, it waits RetryWait before it is tried again, and it is set aside at MaxFailures.
// It returns the new record.
func (s *StateFile) Fail(folder string, uidValidity, uid uint32, reason string, now time.Time) (FailedMessage, error) {
	f := FailedMessage{UID: uid, Count: 1, Reason: reason}
	if b := s.st.Mailbox(folder, uidValidity); b != nil {
		if old := b.Failure(uid); old != nil {
			f.Count = old.Count + 1
		}
	}
	f.Aside = f.Count >= MaxFailures
	f.Next = now.Add(RetryWait(f.Count)).UTC().Truncate(time.Second)
	return f, s.append(&journalRecord{Op: opFail, Folder: folder, UIDValidity: uidValidity, UID: uid, Failure: &f}, false)
}

// Unfail forgets uid's failure (the message is gone from the folder).
func (s *StateFile) Unfail(folder string, uidValidity, uid uint32) error {
	if b := s.st.Mailbox(folder, uidValidity); b == nil || b.Failure(uid) == nil {
		return nil
	}
	return s.append(&journalRecord{Op: opUnfail, Folder: folder, UIDValidity: uidValidity, UID: uid}, false)
}

// RetryFailed makes every failed message, set aside or waiting, due to be tried again at
// the next pass. It returns how many there are.
func (s *StateFile) RetryFailed() (int, error) {
	n := 0
	for _, b := range s.st.Mailboxes {
		n += len(b.Failed)
	}
	if n == 0 {
		return 0, nil
	}
	return n, s.append(&journalRecord{Op: opRetry}, true)
}

// RetryFailedMessages is RetryFailed for a profile that is not running: it fails with
// store.ErrStateLocked while a mover holds the state.
func RetryFailedMessages(home, profile string) (int, error) {
	sf, err := Open(home, profile)
	if err != nil {
		return 0, err
	}
	n, err := sf.RetryFailed()
	if cerr := sf.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// SetMark records that every UID <= mark of the folder is done or not wanted.
func (s *StateFile) SetMark(folder string, uidValidity, mark uint32) error {
	b := s.st.Mailbox(folder, uidValidity)
	if b != nil && mark <= b.Mark {
		return nil
	}
	return s.append(&journalRecord{Op: opMark, Folder: folder, UIDValidity: uidValidity, Mark: mark}, false)
}

// UseMailbox returns the state of folder at uidValidity for the search settings filter;
// when filter differs from the one recorded the mark starts again from 0.
func (s *StateFile) UseMailbox(folder string, uidValidity uint32, filter string) (*MailboxState, error) {
	b := s.st.Mailbox(folder, uidValidity)
	if b == nil || b.Filter != filter {
		if err := s.append(&journalRecord{Op: opMailbox, Folder: folder, UIDValidity: uidValidity, Filter: filter}, true); err != nil {
			return nil, err
		}
	}
	return s.st.Mailbox(folder, uidValidity), nil
}

// compactEvery is the shortest journal at which Done writes a new snapshot; a large state
// waits for a journal as long as its number of messages, so that rewriting the snapshot
// costs O(1) per message however large the state grows.
const compactEvery = 2000

func (s *StateFile) maybeCompact() error {
	if s.records < max(compactEvery, len(s.st.Messages)) {
		return nil
	}
	return s.Compact()
}

// Compact writes the state as a new snapshot (atomically) and empties the journal.
func (s *StateFile) Compact() error {
	if !s.dirty && s.records == 0 {
		return nil
	}
	s.st.prune(time.Now())
	data, err := json.MarshalIndent(s.st, "", " ")
	if err != nil {
		return err
	}
	if err := durable.WriteFile(store.StatePath(s.home, s.profile), data, 0o600); err != nil {
		return i18n.Errorf("saving the state: %w", err)
	}
	if err := s.journal.Truncate(0); err != nil {
		return i18n.Errorf("emptying the state journal: %w", err)
	}
	if _, err := s.journal.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := s.journal.Sync(); err != nil {
		return err
	}
	s.records, s.dirty = 0, false
	return nil
}

// Close writes a snapshot, closes the journal and releases the lock.
func (s *StateFile) Close() error {
	if s.journal == nil {
		return nil
	}
	err := s.Compact()
	if cerr := s.journal.Close(); err == nil {
		err = cerr
	}
	if uerr := s.lock.Unlock(); err == nil {
		err = uerr
	}
	s.journal = nil
	return err
}

// Abandon closes the state without writing a snapshot, as a crash would leave it (the
// journal holds everything). Tests use it to simulate kill -9.
func (s *StateFile) Abandon() {
	if s.journal == nil {
		return
	}
	s.journal.Close()
	s.lock.Unlock()
	s.journal = nil
}

// Forget deletes profile's state, so that all matching mail is processed again. It
// fails with store.ErrStateLocked while a mover runs on the profile. Files already saved stay.
func Forget(home, profile string) error {
	lock, err := store.LockProfile(home, profile)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	for _, p := range []string{store.StatePath(home, profile), store.JournalPath(home, profile)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return i18n.Errorf("removing %s: %w", p, err)
		}
	}
	return durable.SyncDir(store.StateDir(home))
}
