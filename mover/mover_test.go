package mover

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"mailmover/mover/journal"
	"mailmover/store"
)

type harness struct {
	t     testing.TB
	home  string
	dest  string
	srv   *fakeServer
	prof  *store.Profile
	want  map[string]string   // payload hash → a name, for every file that must exist once
	byUID map[uint32][]string // payload hashes of each message
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	dir := t.TempDir()
	p := store.DefaultProfile("test")
	p.Setup.Host, p.Setup.Username = "imap.example.com", "u@example.com"
	p.Security.Auth = store.AuthPassword
	p.Destination.Folder = filepath.Join(dir, "dest")
	return &harness{t: t, home: filepath.Join(dir, "home"), dest: p.Destination.Folder,
		srv: newFakeServer(), prof: p, want: map[string]string{}, byUID: map[uint32][]string{}}
}

func sum(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }

// addMail adds a message with n attachments of distinct content and remembers their
// hashes as wanted.
func (h *harness) addMail(id, n int, name string) uint32 {
	var atts []attachment
	var hashes []string
	for i := range n {
		data := []byte(strings.Repeat(fmt.Sprintf("payload %d/%d ", id, i), 50+id%7))
		nm := name
		if nm == "" {
			nm = fmt.Sprintf("file-%d-%d.pdf", id, i)
		}
		atts = append(atts, attachment{name: nm, ctype: "application/pdf", data: data})
		h.want[sum(data)] = nm
		hashes = append(hashes, sum(data))
	}
	uid := h.srv.add("INBOX", buildMessage(id, fmt.Sprintf("Invoice %d", id), "billing@example.com", "hello", atts...))
	h.byUID[uid] = hashes
	return uid
}

// checkFilesBeforePostAction fails the test when a post-action comes before the
// message's files are in place.
func (h *harness) checkFilesBeforePostAction() {
	h.srv.postHook = func(uid uint32) {
		got := h.files()
		for _, hs := range h.byUID[uid] {
			if len(got[hs]) != 1 {
				h.t.Errorf("post-action on UID %d while its file %s is there %d times", uid, h.want[hs], len(got[hs]))
			}
		}
	}
}

func (h *harness) mover(hk hooks, events chan<- Event) *Mover {
	h.t.Helper()
	m, err := New(Options{Profile: h.prof, Home: h.home, Dial: h.srv.dial, Events: events,
		MaxRetry: 5 * time.Millisecond, PauseRetry: 5 * time.Millisecond})
	if err != nil {
		h.t.Fatal(err)
	}
	m.hooks = hk
	return m
}

func (h *harness) runOnce(hk hooks) error {
	return h.mover(hk, nil).RunOnce(context.Background())
}

// files returns the hashes of every file under the destination and fails on leftover
// temporary files.
func (h *harness) files() map[string][]string {
	h.t.Helper()
	got := map[string][]string{}
	filepath.WalkDir(h.dest, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasPrefix(d.Name(), tempPrefix) {
			h.t.Errorf("temporary file left: %s", p)
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			h.t.Fatal(err)
		}
		rel, _ := filepath.Rel(h.dest, p)
		got[sum(b)] = append(got[sum(b)], rel)
		return nil
	})
	return got
}

// exactlyOnce checks that every wanted payload is in the destination exactly once and
// nothing else is there.
func (h *harness) exactlyOnce() {
	h.t.Helper()
	got := h.files()
	for hs, name := range h.want {
		if n := len(got[hs]); n != 1 {
			h.t.Errorf("payload of %s is there %d times: %v", name, n, got[hs])
		}
	}
	for hs, names := range got {
		if _, ok := h.want[hs]; !ok {
			h.t.Errorf("unexpected file(s) %v", names)
		}
	}
}

func TestRunOnceSavesEachAttachmentOnce(t *testing.T) {
	h := newHarness(t)
	for i := 1; i <= 5; i++ {
		h.addMail(i, i%3+1, "")
	}
	if err := h.runOnce(hooks{}); err != nil {
		t.Fatal(err)
	}
	h.exactlyOnce()
	if _, unseen := h.srv.count("INBOX"); unseen != 0 {
		t.Errorf("%d messages still unseen", unseen)
	}
	// Marked unread again: not moved twice.
	h.srv.mu.Lock()
	for _, m := range h.srv.folders["INBOX"] {
		m.seen = false
	}
	h.srv.mu.Unlock()
	if err := h.runOnce(hooks{}); err != nil {
		t.Fatal(err)
	}
	h.exactlyOnce()
	for uid, n := range h.srv.fetches {
		if n != 1 {
			t.Errorf("UID %d fetched %d times", uid, n)
		}
	}
	st, err := journal.Load(h.home, "test")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Messages) != 5 {
		t.Errorf("state has %d messages, want 5", len(st.Messages))
	}
	for _, m := range st.Messages {
		if m.Status != journal.StatusDone || len(m.Files) == 0 || m.Files[0].SHA256 == "" {
			t.Errorf("message record %+v", m)
		}
	}
}

// TestCrashAtEachStep stops the mover at every step of the protocol, as kill -9 would,
// restarts it, and checks that every file is there exactly once and every message got
// its post-action.
func TestCrashAtEachStep(t *testing.T) {
	steps := []string{stepFetched, stepCommitted, stepPlaced, stepPostAction, stepDone, "recovered"}
	for _, after := range []string{store.AfterSeen, store.AfterNone, store.AfterMove, store.AfterDelete} {
		for _, conflict := range []string{store.ConflictRename, store.ConflictOverwrite, store.ConflictSkip} {
			if conflict == store.ConflictOverwrite && after == store.AfterDelete {
				continue // refused by the profile's validation
			}
			for _, step := range steps {
				for _, batch := range []bool{false, true} {
					name := after + "/" + conflict + "/" + step
					if batch {
						name += "/batch"
					}
					t.Run(name, func(t *testing.T) {
						h := newHarness(t)
						h.srv.batch = batch
						h.prof.Common.After = after
						h.prof.Destination.OnConflict = conflict
						if after == store.AfterNone {
							h.prof.Common.Search = store.SearchAll
						}
						if after == store.AfterMove {
							h.prof.Common.MoveTo = "Done"
							h.srv.folders["Done"] = nil
						}
						for i := 1; i <= 4; i++ {
							h.addMail(i, 2, "")
						}
						h.checkFilesBeforePostAction()
						// Crash at the step for the 2nd message, then for the 3rd in the next run.
						for _, target := range []uint32{2, 3} {
							crashed := false
							err := h.runOnce(hooks{step: func(s string, uid uint32) error {
								if s == step && (uid == target || s == "recovered") && !crashed {
									crashed = true
									return errSimulatedCrash
								}
								return nil
							}})
							if err != nil && !errors.Is(err, errSimulatedCrash) {
								t.Fatal(err)
							}
						}
						for range 2 {
							if err := h.runOnce(hooks{}); err != nil {
								t.Fatal(err)
							}
						}
						h.exactlyOnce()
						all, unseen := h.srv.count("INBOX")
						switch after {
						case store.AfterSeen:
							if unseen != 0 {
								t.Errorf("%d unseen", unseen)
							}
						case store.AfterMove, store.AfterDelete:
							if all != 0 {
								t.Errorf("%d messages left in INBOX", all)
							}
							if after == store.AfterMove {
								if n, _ := h.srv.count("Done"); n != 4 {
									t.Errorf("%d messages in Done, want 4", n)
								}
							}
						}
					})
				}
			}
		}
	}
}

func TestConnectionCutMidMessage(t *testing.T) {
	h := newHarness(t)
	for i := 1; i <= 6; i++ {
		h.addMail(i, 2, "")
	}
	h.srv.cutAfter[2] = 300
	h.srv.cutAfter[4] = 1500
	h.srv.failDial = 2
	ev := make(chan Event, 1000)
	if err := h.mover(hooks{}, ev).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.exactlyOnce()
	close(ev)
	retries := 0
	for e := range ev {
		if e.Kind == KindRetry {
			retries++
		}
	}
	if retries < 4 {
		t.Errorf("%d retry events, want at least 4 (2 cuts, 2 refused dials)", retries)
	}
}

// failingWriter fails with err once more than limit bytes were written.
type failingWriter struct {
	w     io.Writer
	limit int64
	err   error
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > f.limit {
		return 0, f.err
	}
	f.limit -= int64(len(p))
	return f.w.Write(p)
}

func TestDiskFullLeavesMessageUnmarked(t *testing.T) {
	h := newHarness(t)
	h.addMail(1, 1, "")
	big := attachment{name: "big.pdf", data: []byte(strings.Repeat("x", 200_000))}
	h.srv.add("INBOX", buildMessage(2, "Big", "billing@example.com", "hi", big))
	h.addMail(3, 1, "")
	full := true
	hk := hooks{wrap: func(w io.Writer) io.Writer {
		if !full {
			return w
		}
		return &failingWriter{w: w, limit: 100_000, err: &fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}}
	}}
	ev := make(chan Event, 1000)
	err := h.mover(hk, ev).RunOnce(context.Background())
	var fe *FailedError
	if !errors.As(err, &fe) || fe.Failed != 1 {
		t.Fatalf("RunOnce = %v, want 1 failed message", err)
	}
	close(ev)
	var sawAdvice bool
	for e := range ev {
		if e.Kind == KindError && e.UID == 2 && strings.Contains(e.Advice, "full") {
			sawAdvice = true
		}
	}
	if !sawAdvice {
		t.Error("no error event for UID 2 saying the disk is full")
	}
	h.exactlyOnce() // the two small ones; the big one is not wanted yet
	h.srv.mu.Lock()
	if m := h.srv.find("INBOX", 2); m.seen {
		t.Error("the failed message was marked seen")
	}
	h.srv.mu.Unlock()
	// Space again: the next run saves it.
	full = false
	h.want[sum(big.data)] = "big.pdf"
	if err := h.runOnce(hk); err != nil {
		t.Fatal(err)
	}
	h.exactlyOnce()
}

func TestPostActionFailureDoesNotSaveTwice(t *testing.T) {
	h := newHarness(t)
	h.addMail(1, 2, "")
	h.addMail(2, 1, "")
	h.srv.failPost[1] = 1
	err := h.runOnce(hooks{})
	var fe *FailedError
	if !errors.As(err, &fe) {
		t.Fatalf("RunOnce = %v, want a FailedError", err)
	}
	h.exactlyOnce()
	if err := h.runOnce(hooks{}); err != nil {
		t.Fatal(err)
	}
	h.exactlyOnce()
	if h.srv.fetches[1] != 1 {
		t.Errorf("UID 1 fetched %d times; its files were already saved", h.srv.fetches[1])
	}
	if _, unseen := h.srv.count("INBOX"); unseen != 0 {
		t.Errorf("%d unseen", unseen)
	}
}

func TestUIDValidityChangeDoesNotSaveAgain(t *testing.T) {
	h := newHarness(t)
	h.prof.Common.Search, h.prof.Common.After = store.SearchAll, store.AfterNone
	for i := 1; i <= 3; i++ {
		h.addMail(i, 1, "")
	}
	if err := h.runOnce(hooks{}); err != nil {
		t.Fatal(err)
	}
	if err := h.runOnce(hooks{}); err != nil { // search = all again: nothing new
		t.Fatal(err)
	}
	h.srv.renumber()
	h.addMail(4, 1, "")
	if err := h.runOnce(hooks{}); err != nil {
		t.Fatal(err)
	}
	h.exactlyOnce()
	// Changing the filters restarts the mark but still saves nothing twice.
	h.prof.Common.From = "billing"
	if err := h.runOnce(hooks{}); err != nil {
		t.Fatal(err)
	}
	h.exactlyOnce()
}

func TestSameNamesInOneMessage(t *testing.T) {
	for _, tc := range []struct {
		policy string
		files  []string // names expected in the destination
	}{
		{store.ConflictRename, []string{"a.pdf", "A (2).pdf", "a (3).pdf", "b.pdf", "b (2).pdf"}},
		{store.ConflictOverwrite, []string{"a.pdf", "b.pdf"}},
		{store.ConflictSkip, []string{"a.pdf", "b.pdf"}},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			h := newHarness(t)
			h.prof.Destination.OnConflict = tc.policy
			os.MkdirAll(h.dest, 0o755)
			os.WriteFile(filepath.Join(h.dest, "b.pdf"), []byte("old b"), 0o644)
			h.srv.add("INBOX", buildMessage(1, "x", "a@example.com", "t",
				attachment{name: "a.pdf", data: []byte("first")},
				attachment{name: "A.pdf", data: []byte("second")},
				attachment{name: "a.pdf", data: []byte("third")},
				attachment{name: "b.pdf", data: []byte("new b")}))
			if err := h.runOnce(hooks{}); err != nil {
				t.Fatal(err)
			}
			var names []string
			entries, _ := os.ReadDir(h.dest)
			for _, e := range entries {
				names = append(names, e.Name())
			}
			slices.Sort(names)
			want := slices.Clone(tc.files)
			slices.Sort(want)
			if !slices.Equal(names, want) {
				t.Errorf("files %v, want %v", names, want)
			}
			a, _ := os.ReadFile(filepath.Join(h.dest, "a.pdf"))
			b, _ := os.ReadFile(filepath.Join(h.dest, "b.pdf"))
			wantA, wantB := "first", "old b"
			switch tc.policy {
			case store.ConflictOverwrite:
				wantA, wantB = "third", "new b"
			}
			if string(a) != wantA || string(b) != wantB {
				t.Errorf("a.pdf = %q, b.pdf = %q; want %q, %q", a, b, wantA, wantB)
			}
		})
	}
}

func TestSaveMessageAndBodyAndMask(t *testing.T) {
	h := newHarness(t)
	h.prof.Common.Save = []string{store.SaveAttachments, store.SaveMessage, store.SaveBody}
	h.prof.Common.AttachmentMask = "*.PDF; *.xml"
	h.prof.Destination.Filename = "{from}/{date}/{name}-{uid}.{ext}"
	raw := buildMessage(1, "Report ../../etc", "sender@example.com", "the body text",
		attachment{name: "r.pdf", data: []byte("pdf")},
		attachment{name: "r.xml", data: []byte("<xml/>")},
		attachment{name: "evil.exe", data: []byte("MZ")})
	uid := h.srv.add("INBOX", raw)
	if err := h.runOnce(hooks{}); err != nil {
		t.Fatal(err)
	}
	got := h.files()
	dir := filepath.Join("sender@example.com", time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC).Local().Format("2006-01-02"))
	want := map[string][]byte{
		filepath.Join(dir, fmt.Sprintf("r-%d.pdf", uid)):                []byte("pdf"),
		filepath.Join(dir, fmt.Sprintf("r-%d.xml", uid)):                []byte("<xml/>"),
		filepath.Join(dir, fmt.Sprintf("Report .._.._etc-%d.eml", uid)): raw,
		filepath.Join(dir, fmt.Sprintf("Report .._.._etc-%d.txt", uid)): []byte("the body text"),
	}
	for name, data := range want {
		if p := got[sum(data)]; len(p) != 1 || p[0] != name {
			t.Errorf("%s: found at %v", name, p)
		}
	}
	if len(got) != len(want) {
		t.Errorf("files: %v", got)
	}
}

func TestStateLockedByAnotherMover(t *testing.T) {
	h := newHarness(t)
	h.addMail(1, 1, "")
	ctx, cancel := context.WithCancel(context.Background())
	ev := make(chan Event, 100)
	done := make(chan error, 1)
	go func() { done <- h.mover(hooks{}, ev).Run(ctx) }()
	waitKind(t, ev, KindIdle)
	err := h.runOnce(hooks{})
	if !errors.Is(err, store.ErrStateLocked) || !strings.Contains(err.Error(), "already running") {
		t.Errorf("second mover: %v, want 'already running'", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after stop = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func waitKind(t *testing.T, ev <-chan Event, k Kind) Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.Kind == k {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s event within 10s", k)
		}
	}
}

func TestRunPicksUpNewMailAndStops(t *testing.T) {
	h := newHarness(t)
	h.addMail(1, 1, "")
	ctx, cancel := context.WithCancel(context.Background())
	ev := make(chan Event, 100)
	done := make(chan error, 1)
	go func() { done <- h.mover(hooks{}, ev).Run(ctx) }()
	waitKind(t, ev, KindIdle)
	h.addMail(2, 2, "")
	waitKind(t, ev, KindFileSaved)
	waitKind(t, ev, KindIdle)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
	h.exactlyOnce()
}

func TestMailArrivingDuringPassIsNotMissed(t *testing.T) {
	h := newHarness(t)
	h.addMail(1, 1, "")
	n := 0
	h.srv.searchHook = func() {
		n++
		if n <= 3 {
			h.addMail(10+n, 1, "")
		}
	}
	if err := h.runOnce(hooks{}); err != nil {
		t.Fatal(err)
	}
	h.exactlyOnce()
}

func TestLogFileWritten(t *testing.T) {
	h := newHarness(t)
	h.addMail(1, 1, "")
	if err := h.runOnce(hooks{}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(LogPath(h.home, "test"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"kind":"saved"`) {
		t.Errorf("log has no saved line:\n%s", data)
	}
}
