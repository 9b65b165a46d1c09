package journal

import (
	"encoding/json"
	"errors"
	"mailmover/store"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func testMsg(id string, uid uint32) *MessageRecord {
	return &MessageRecord{Identity: id, MessageID: "<" + id + "@x>", Folder: "INBOX", UIDValidity: 9, UID: uid,
		Dest: "/dest", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Files: []FileRecord{{Temp: ".mailmover-tmp-" + id, Path: id + ".pdf", SHA256: "h-" + id, Bytes: 3}}}
}

func openT(t *testing.T, home string) *StateFile {
	t.Helper()
	sf, err := Open(home, "p")
	if err != nil {
		t.Fatal(err)
	}
	return sf
}

func TestStateJournalReplayAndSnapshot(t *testing.T) {
	home := t.TempDir()
	sf := openT(t, home)
	if _, err := sf.UseMailbox("INBOX", 9, "f1"); err != nil {
		t.Fatal(err)
	}
	for uid := uint32(1); uid <= 5; uid++ {
		m := testMsg(string(rune('a'+uid)), uid)
		if err := sf.Commit(m); err != nil {
			t.Fatal(err)
		}
		if uid != 3 {
			if err := sf.Done(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := sf.SetMark("INBOX", 9, 2); err != nil {
		t.Fatal(err)
	}
	if err := sf.MarkUID("INBOX", 9, 7); err != nil {
		t.Fatal(err)
	}
	want := sf.State()
	check := func(st *State) {
		t.Helper()
		b := st.Mailbox("INBOX", 9)
		if b == nil || b.Mark != 2 || !slices.Equal(b.Done, []uint32{4, 5, 7}) {
			t.Fatalf("mailbox = %+v, want mark 2, done [4 5 7]", b)
		}
		for uid, done := range map[uint32]bool{1: true, 2: true, 3: false, 4: true, 6: false, 7: true} {
			if st.IsDone("INBOX", 9, uid) != done {
				t.Errorf("IsDone(%d) = %v", uid, !done)
			}
		}
		if p := st.Pending(); len(p) != 1 || p[0].UID != 3 || p[0].Files[0].Temp == "" {
			t.Errorf("pending = %+v, want UID 3 with its temporary file", p)
		}
		if m := st.Messages[string(rune('a'+4))]; m.Status != StatusDone || m.Files[0].Temp != "" {
			t.Errorf("done message %+v", m)
		}
	}
	check(want)
	// A crash: nothing but the journal.
	sf.Abandon()
	if _, err := os.Stat(store.StatePath(home, "p")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("snapshot written without Compact")
	}
	sf = openT(t, home)
	check(sf.State())
	if !reflect.DeepEqual(sf.State(), want) {
		t.Errorf("replayed state differs:\n%+v\n%+v", sf.State(), want)
	}
	// A clean close: snapshot, empty journal.
	if err := sf.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(store.JournalPath(home, "p")); err != nil || fi.Size() != 0 {
		t.Errorf("journal after close: %v, %v", fi, err)
	}
	st, err := Load(home, "p")
	if err != nil {
		t.Fatal(err)
	}
	check(st)
}

func TestStateJournalAlreadyInSnapshotIsNotAppliedTwice(t *testing.T) {
	home := t.TempDir()
	sf := openT(t, home)
	sf.UseMailbox("INBOX", 9, "f")
	sf.Done(testMsg("a", 1))
	journal, _ := os.ReadFile(store.JournalPath(home, "p"))
	// A filter change after the done record: replaying the done record again must not
	// bring UID 1 back.
	sf.UseMailbox("INBOX", 9, "g")
	if err := sf.Close(); err != nil {
		t.Fatal(err)
	}
	// Crash between the snapshot's rename and the journal's truncation.
	full := append(journal, []byte(`{"seq":3,"op":"mailbox","folder":"INBOX","uidvalidity":9,"filter":"g"}`+"\n")...)
	os.WriteFile(store.JournalPath(home, "p"), full, 0o600)
	st, err := Load(home, "p")
	if err != nil {
		t.Fatal(err)
	}
	if st.IsDone("INBOX", 9, 1) {
		t.Error("a record already in the snapshot was applied again")
	}
}

// A last record that is complete JSON but lacks its newline is an append a crash cut
// before it returned: replay must not apply it, as the repair cuts it. (Applying it and
// then cutting it let a run act on a commit that a second crash forgot.)
func TestStateUnterminatedLastRecordIsNotApplied(t *testing.T) {
	home := t.TempDir()
	sf := openT(t, home)
	sf.Done(testMsg("a", 1))
	sf.Abandon()
	line, _ := json.Marshal(&journalRecord{Seq: 2, Op: opCommit, Msg: testMsg("b", 2)})
	f, _ := os.OpenFile(store.JournalPath(home, "p"), os.O_APPEND|os.O_WRONLY, 0)
	f.Write(line) // the newline never made it to disk
	f.Close()
	st, err := Load(home, "p")
	if err != nil {
		t.Fatal(err)
	}
	if st.Messages["b"] != nil {
		t.Fatal("Load applied a record without its newline")
	}
	sf = openT(t, home)
	if sf.State().Messages["b"] != nil || !sf.State().IsDone("INBOX", 9, 1) {
		t.Fatalf("Open: %+v", sf.State())
	}
	if err := sf.Done(testMsg("c", 3)); err != nil {
		t.Fatal(err)
	}
	sf.Abandon()
	// A second crash: what the first reopen saw is what the second sees.
	sf = openT(t, home)
	defer sf.Abandon()
	if sf.State().Messages["b"] != nil || sf.State().Messages["c"] == nil {
		t.Fatalf("after a second reopen: %+v", sf.State().Messages)
	}
}

func TestStateTornAndDamagedJournal(t *testing.T) {
	home := t.TempDir()
	sf := openT(t, home)
	sf.Done(testMsg("a", 1))
	sf.Abandon()
	f, _ := os.OpenFile(store.JournalPath(home, "p"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":2,"op":"done","msg":{"id":"b",`) // cut by a crash
	f.Close()
	sf = openT(t, home)
	if !sf.State().IsDone("INBOX", 9, 1) || sf.State().Messages["b"] != nil {
		t.Fatalf("state after torn line: %+v", sf.State())
	}
	if err := sf.Done(testMsg("c", 3)); err != nil {
		t.Fatal(err)
	}
	sf.Abandon()
	sf = openT(t, home)
	if !sf.State().IsDone("INBOX", 9, 3) {
		t.Error("record after a repaired torn line lost")
	}
	sf.Abandon()
	// Damage in the middle is reported, not skipped.
	data, _ := os.ReadFile(store.JournalPath(home, "p"))
	os.WriteFile(store.JournalPath(home, "p"), append([]byte("garbage\n"), data...), 0o600)
	if _, err := Open(home, "p"); err == nil {
		t.Error("damaged journal accepted")
	}
	// A damaged snapshot names the way out.
	os.WriteFile(store.JournalPath(home, "p"), nil, 0o600)
	os.WriteFile(store.StatePath(home, "p"), []byte("{"), 0o600)
	if _, err := Load(home, "p"); err == nil || !strings.Contains(err.Error(), "mailmover forget") {
		t.Errorf("damaged snapshot: %v", err)
	}
}

func TestStateFilterChangeRestartsMark(t *testing.T) {
	sf := openT(t, t.TempDir())
	defer sf.Close()
	sf.UseMailbox("INBOX", 9, "f")
	sf.SetMark("INBOX", 9, 10)
	sf.MarkUID("INBOX", 9, 12)
	b, _ := sf.UseMailbox("INBOX", 9, "f")
	if b.Mark != 10 || !b.IsDone(12) {
		t.Fatalf("same filter changed the mailbox: %+v", b)
	}
	b, _ = sf.UseMailbox("INBOX", 9, "g")
	if b.Mark != 0 || b.IsDone(5) || b.IsDone(12) {
		t.Errorf("new filter kept the mark: %+v", b)
	}
	// Another UIDVALIDITY is another mailbox.
	if sf.State().IsDone("INBOX", 10, 1) {
		t.Error("UID done under another UIDVALIDITY")
	}
}

func TestStateLockAndForget(t *testing.T) {
	home := t.TempDir()
	sf := openT(t, home)
	sf.Done(testMsg("a", 1))
	if _, err := Open(home, "p"); !errors.Is(err, store.ErrStateLocked) {
		t.Errorf("second open: %v, want store.ErrStateLocked", err)
	}
	if err := Forget(home, "p"); !errors.Is(err, store.ErrStateLocked) {
		t.Errorf("forget while running: %v, want store.ErrStateLocked", err)
	}
	// Another profile is independent.
	other, err := Open(home, "q")
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	if err := sf.Close(); err != nil {
		t.Fatal(err)
	}
	if err := Forget(home, "p"); err != nil {
		t.Fatal(err)
	}
	st, err := Load(home, "p")
	if err != nil || len(st.Messages) != 0 || st.IsDone("INBOX", 9, 1) {
		t.Errorf("after forget: %+v, %v", st, err)
	}
	if _, err := Open(home, "../x"); err == nil {
		t.Error("bad profile name accepted")
	}
	if _, err := os.Stat(filepath.Join(store.StateDir(home), "q.lock")); err != nil {
		t.Error(err)
	}
}

func TestStateCompactsLongJournal(t *testing.T) {
	home := t.TempDir()
	sf := openT(t, home)
	for i := range compactEvery + 5 {
		sf.MarkUID("INBOX", 9, uint32(i+1))
		if i%100 == 0 {
			sf.Done(testMsg("m"+string(rune('a'+i%26)), uint32(i+1)))
		}
	}
	if sf.records >= compactEvery {
		t.Errorf("journal has %d records; not compacted", sf.records)
	}
	sf.Abandon()
	st, _ := Load(home, "p")
	if b := st.Mailbox("INBOX", 9); b == nil || len(b.Done) != compactEvery+5 {
		t.Errorf("after compaction + replay: %d done", len(b.Done))
	}
}

func TestRetryWaitGrowsAndIsBounded(t *testing.T) {
	if RetryWait(1) != 0 {
		t.Errorf("RetryWait(1) = %s, want 0 (the next pass)", RetryWait(1))
	}
	for c := 2; c < 20; c++ {
		if RetryWait(c) < RetryWait(c-1) || RetryWait(c) > 12*time.Hour {
			t.Errorf("RetryWait(%d) = %s after %s", c, RetryWait(c), RetryWait(c-1))
		}
	}
}

// The state does not grow without bound: a folder's old UIDVALIDITY goes when a new one
// is used, done messages older than Retention go at compaction (committed ones stay),
// and failures are replayed from the journal as they were recorded.
func TestStatePrunesWhatCanNoLongerMatter(t *testing.T) {
	home := t.TempDir()
	sf := openT(t, home)
	if _, err := sf.UseMailbox("INBOX", 9, "f"); err != nil {
		t.Fatal(err)
	}
	if _, err := sf.UseMailbox("Other", 1, "f"); err != nil {
		t.Fatal(err)
	}
	old := testMsg("old", 1)
	old.Time = time.Now().Add(-Retention - time.Hour)
	recent := testMsg("recent", 2)
	recent.Time = time.Now().Add(-time.Hour)
	committed := testMsg("committed", 3)
	committed.Time = old.Time
	sf.Done(old)
	sf.Done(recent)
	sf.Commit(committed)
	if f, err := sf.Fail("INBOX", 9, 7, "broken", time.Now()); err != nil || f.Count != 1 {
		t.Fatalf("Fail = %+v, %v", f, err)
	}
	if f, _ := sf.Fail("INBOX", 9, 7, "broken", time.Now()); f.Count != 2 || f.Aside {
		t.Fatalf("second Fail = %+v", f)
	}
	sf.Abandon()
	sf = openT(t, home) // replayed from the journal
	if f := sf.State().Mailbox("INBOX", 9).Failure(7); f == nil || f.Count != 2 || f.Reason != "broken" {
		t.Fatalf("failure after replay: %+v", f)
	}
	if _, err := sf.UseMailbox("INBOX", 10, "f"); err != nil { // renumbered
		t.Fatal(err)
	}
	if err := sf.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := Load(home, "p")
	if err != nil {
		t.Fatal(err)
	}
	if st.Mailbox("INBOX", 9) != nil || st.Mailbox("INBOX", 10) == nil || st.Mailbox("Other", 1) == nil {
		t.Errorf("mailboxes after a new UIDVALIDITY: %+v", st.Mailboxes)
	}
	if st.Messages["old"] != nil || st.Messages["recent"] == nil || st.Messages["committed"] == nil {
		t.Errorf("messages after compaction: %v", st.Messages)
	}
}
