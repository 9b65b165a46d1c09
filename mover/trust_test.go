package mover

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailmover/mover/journal"
	"mailmover/store"
)

// inbox reports whether uid is still in INBOX.
func (h *harness) inbox(uid uint32) bool {
	h.srv.mu.Lock()
	defer h.srv.mu.Unlock()
	return h.srv.find("INBOX", uid) != nil
}

// uidOf returns the UID of the message in INBOX whose raw text contains s.
func (h *harness) uidOf(s string) uint32 {
	h.srv.mu.Lock()
	defer h.srv.mu.Unlock()
	for _, m := range h.srv.folders["INBOX"] {
		if strings.Contains(string(m.raw), s) {
			return m.uid
		}
	}
	return 0
}

// runCollect runs one pass and returns the texts of its events.
func (h *harness) runCollect() (string, error) {
	h.t.Helper()
	ev := make(chan Event, 4096)
	err := h.mover(hooks{}, ev).RunOnce(context.Background())
	close(ev)
	var b strings.Builder
	for e := range ev {
		b.WriteString(e.Text + "\n")
	}
	return b.String(), err
}

// A message recorded as done with nothing saved, met again as "saved before" (a new
// UIDVALIDITY, or a filter change that restarts the mark), is never moved or deleted.
func TestSavedBeforeWithNothingSavedStays(t *testing.T) {
	for _, after := range []string{store.AfterDelete, store.AfterMove} {
		for _, how := range []string{"uidvalidity", "filter"} {
			t.Run(after+"/"+how, func(t *testing.T) {
				h := newHarness(t)
				h.prof.Common.After, h.prof.Common.MoveTo = after, "Done"
				h.srv.folders["Done"] = nil
				h.prof.Common.Search = store.SearchAll
				h.prof.Common.AttachmentMask = "*.pdf"
				h.srv.add("INBOX", buildMessage(1, "logo only", "a@example.com", "hello",
					attachment{name: "logo.png", ctype: "image/png", data: []byte("png data")}))
				if _, err := h.runCollect(); err != nil {
					t.Fatal(err)
				}
				if h.uidOf("logo only") == 0 {
					t.Fatal("first pass: the message with nothing saved left INBOX")
				}
				if how == "uidvalidity" {
					h.srv.renumber()
				} else {
					h.prof.Common.Subject = "logo"
				}
				log, err := h.runCollect()
				if err != nil {
					t.Fatal(err)
				}
				if h.uidOf("logo only") == 0 {
					t.Fatalf("after = %s, %s changed: the message with nothing saved was taken from INBOX\n%s", after, how, log)
				}
				if !strings.Contains(log, "nothing was saved from it") {
					t.Errorf("the log does not say why the message stays:\n%s", log)
				}
			})
		}
	}
}

func pdf(name, content string) attachment {
	return attachment{name: name, ctype: "application/pdf", data: []byte(content)}
}

// on_conflict = "skip" with after = "delete" or "move": a mail whose file is skipped
// because the name holds other content stays in the mailbox; one whose file is skipped
// because the same content is there goes. Within one batch too, and against a file that
// was in the destination before.
func TestSkipForOtherContentKeepsTheMail(t *testing.T) {
	for _, after := range []string{store.AfterDelete, store.AfterMove} {
		t.Run(after, func(t *testing.T) {
			h := newHarness(t)
			h.prof.Common.After, h.prof.Common.MoveTo = after, "Done"
			h.srv.folders["Done"] = nil
			h.prof.Destination.OnConflict = store.ConflictSkip
			if err := os.MkdirAll(h.dest, 0o755); err != nil {
				t.Fatal(err)
			}
			// A file the admin put there before.
			if err := os.WriteFile(filepath.Join(h.dest, "old.pdf"), []byte("the admin's file"), 0o644); err != nil {
				t.Fatal(err)
			}
			h.srv.add("INBOX", buildMessage(1, "real", "billing@example.com", "x", pdf("invoice.pdf", "REAL INVOICE")))
			if _, err := h.runCollect(); err != nil {
				t.Fatal(err)
			}
			// In one batch: same content (safe), other content (stays), and other
			// content against the admin's file (stays).
			h.srv.add("INBOX", buildMessage(2, "copy", "billing@example.com", "x", pdf("invoice.pdf", "REAL INVOICE")))
			h.srv.add("INBOX", buildMessage(3, "fake", "mallory@example.com", "x", pdf("invoice.pdf", "OTHER CONTENT")))
			h.srv.add("INBOX", buildMessage(4, "clash", "someone@example.com", "x", pdf("old.pdf", "NEW CONTENT")))
			h.srv.add("INBOX", buildMessage(5, "two", "someone@example.com", "x", pdf("a.pdf", "A1"), pdf("a.pdf", "A2")))
			log, err := h.runCollect()
			if err != nil {
				t.Fatal(err)
			}
			if h.uidOf("Subject: copy") != 0 {
				t.Errorf("the copy with the same content stayed in INBOX")
			}
			for _, subj := range []string{"fake", "clash", "two"} {
				if h.uidOf("Subject: "+subj) == 0 {
					t.Errorf("after = %s: the mail %q was taken from INBOX although its file's content is not in the destination\n%s", after, subj, log)
				}
			}
			if !strings.Contains(log, "other content") {
				t.Errorf("the log does not say why:\n%s", log)
			}
			if b, _ := os.ReadFile(filepath.Join(h.dest, "invoice.pdf")); string(b) != "REAL INVOICE" {
				t.Errorf("invoice.pdf = %q", b)
			}
			if b, _ := os.ReadFile(filepath.Join(h.dest, "old.pdf")); string(b) != "the admin's file" {
				t.Errorf("old.pdf = %q", b)
			}
			// A later pass does not take them either.
			if _, err := h.runCollect(); err != nil {
				t.Fatal(err)
			}
			if h.uidOf("Subject: fake") == 0 {
				t.Error("a later pass took the mail with the skipped file")
			}
		})
	}
}

// The post-action of a message is applied only when every file it was to save is safe:
// the rule as a table.
func TestLeaveInMailbox(t *testing.T) {
	saved := journal.FileRecord{Path: "a.pdf"}
	same := journal.FileRecord{Path: "b.pdf", Skipped: "x", Same: true}
	other := journal.FileRecord{Path: "c.pdf", Skipped: "x"}
	for _, c := range []struct {
		files []journal.FileRecord
		after string
		stay  bool
	}{
		{nil, store.AfterDelete, true},
		{nil, store.AfterSeen, false},
		{[]journal.FileRecord{saved}, store.AfterDelete, false},
		{[]journal.FileRecord{saved, same}, store.AfterMove, false},
		{[]journal.FileRecord{same}, store.AfterDelete, false},
		{[]journal.FileRecord{saved, other}, store.AfterDelete, true},
		{[]journal.FileRecord{saved, other}, store.AfterMove, true},
		{[]journal.FileRecord{saved, other}, store.AfterSeen, false},
		{[]journal.FileRecord{other}, store.AfterNone, false},
	} {
		rec := &journal.MessageRecord{Files: c.files}
		if got := leaveInMailbox(c.after, rec); got != c.stay {
			t.Errorf("files %+v, after %s: stay = %v, want %v", c.files, c.after, got, c.stay)
		}
	}
}

// A profile renamed after a front end loaded it, but before its mover took the state's
// lock, must not start on a fresh, empty state under the old name.
func TestRenamedWhileStartingDoesNotStartFresh(t *testing.T) {
	h := newHarness(t)
	h.addMail(1, 1, "")
	if err := store.SaveProfile(h.home, h.prof); err != nil {
		t.Fatal(err)
	}
	if err := h.runOnce(hooks{}); err != nil {
		t.Fatal(err)
	}
	h.addMail(2, 1, "")
	m, err := New(Options{Profile: h.prof, Home: h.home, Dial: h.srv.dial, FromHome: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.RenameProfile(h.home, h.prof.Name, "renamed", nil); err != nil {
		t.Fatal(err)
	}
	err = m.RunOnce(context.Background())
	if err == nil || !strings.Contains(err.Error(), "renamed or deleted") {
		t.Fatalf("RunOnce after a rename = %v, want an error naming the rename", err)
	}
	if n := h.srv.fetches[1] + h.srv.fetches[2]; n != 1 {
		t.Errorf("messages fetched %d times in all, want 1 (the first run's)", n)
	}
	st, err := journal.Load(h.home, "renamed")
	if err != nil || !st.IsDone("INBOX", h.srv.uidValidity, 1) {
		t.Errorf("the renamed profile's state: %v %+v", err, st)
	}
	if _, err := os.Stat(store.StatePath(h.home, h.prof.Name)); err == nil {
		t.Error("a fresh state was written under the old name")
	}
}

// A message that always fails is not fetched on every pass forever: it waits longer
// after each failure, is set aside after journal.MaxFailures (saying so), no longer holds
// the mark back, and comes back with RetryFailedMessages (forget -failed).
func TestAlwaysFailingMessageBacksOffAndIsSetAside(t *testing.T) {
	h := newHarness(t)
	broken := "From: a@example.com\r\nSubject: broken\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=bad.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"!!!! not base64 at all ****\r\n--b--\r\n"
	bad := h.srv.add("INBOX", []byte(broken))
	h.addMail(2, 1, "")
	clock := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	pass := func() (string, error) {
		t.Helper()
		ev := make(chan Event, 4096)
		m, err := New(Options{Profile: h.prof, Home: h.home, Dial: h.srv.dial, Events: ev,
			MaxRetry: 5 * time.Millisecond, Now: func() time.Time { return clock }})
		if err != nil {
			t.Fatal(err)
		}
		err = m.RunOnce(context.Background())
		close(ev)
		var b strings.Builder
		for e := range ev {
			b.WriteString(e.Text + "\n")
		}
		return b.String(), err
	}
	fetches := func() int {
		h.srv.mu.Lock()
		defer h.srv.mu.Unlock()
		return h.srv.fetches[bad]
	}
	var fe *FailedError
	try := func(wantFetches int) string {
		t.Helper()
		log, err := pass()
		if !errors.As(err, &fe) || fe.Failed != 1 {
			t.Fatalf("%v, want 1 failed", err)
		}
		if got := fetches(); got != wantFetches {
			t.Fatalf("fetched %d times, want %d\n%s", got, wantFetches, log)
		}
		return log
	}
	try(1) // the first failure
	try(2) // is tried again at the next pass
	for count := 2; count < journal.MaxFailures; count++ {
		try(count) // not before its wait is over
		clock = clock.Add(journal.RetryWait(count) + time.Second)
		log := try(count + 1)
		if aside := count+1 == journal.MaxFailures; aside != (fe.SetAside == 1) || aside != strings.Contains(log, "set aside") {
			t.Fatalf("failure %d: set aside = %d\n%s", count+1, fe.SetAside, log)
		}
	}
	n := fetches()
	clock = clock.Add(30 * 24 * time.Hour)
	log, err := pass()
	if !errors.As(err, &fe) || fe.SetAside != 1 {
		t.Errorf("a pass a month later: %v, want it reported as set aside", err)
	}
	if fetches() != n {
		t.Errorf("a set-aside message was fetched again")
	}
	if !strings.Contains(log, "set aside") {
		t.Errorf("the pass does not mention the set-aside message:\n%s", log)
	}
	h.exactlyOnce()
	st, _ := journal.Load(h.home, h.prof.Name)
	if b := st.Mailbox("INBOX", h.srv.uidValidity); b == nil || b.Mark < bad {
		t.Errorf("the mark is held back by a set-aside message: %+v", b)
	}
	// forget -failed brings it back.
	if k, err := journal.RetryFailedMessages(h.home, h.prof.Name); err != nil || k != 1 {
		t.Fatalf("RetryFailedMessages = %d, %v", k, err)
	}
	if _, err := pass(); !errors.As(err, &fe) {
		t.Fatalf("after retry: %v", err)
	}
	if fetches() != n+1 {
		t.Errorf("after forget -failed the message was not tried again (%d fetches, want %d)", fetches(), n+1)
	}
}

// A part decoded with data lost (base64 letters after the "=" pad: a truncated or
// concatenated attachment) is saved as far as it goes, reported, and its mail is not
// deleted or moved.
func TestDataLostInAPartKeepsTheMail(t *testing.T) {
	for _, after := range []string{store.AfterDelete, store.AfterMove} {
		t.Run(after, func(t *testing.T) {
			h := newHarness(t)
			h.prof.Common.After, h.prof.Common.MoveTo = after, "Done"
			h.srv.folders["Done"] = nil
			raw := "From: a@example.com\r\nSubject: cut\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
				"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=joined.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
				"SGVsbG8=V29ybGQ=\r\n--b--\r\n"
			uid := h.srv.add("INBOX", []byte(raw))
			log, err := h.runCollect()
			if err != nil {
				t.Fatalf("%v\n%s", err, log)
			}
			if !h.inbox(uid) {
				t.Fatalf("after = %s: the mail with a part decoded with data lost left INBOX\n%s", after, log)
			}
			if b, err := os.ReadFile(filepath.Join(h.dest, "joined.pdf")); err != nil || string(b) != "Hello" {
				t.Errorf("joined.pdf = %q, %v", b, err)
			}
			if !strings.Contains(log, "data lost") {
				t.Errorf("the log does not say why the mail stays:\n%s", log)
			}
		})
	}
}
