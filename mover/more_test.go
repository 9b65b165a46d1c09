package mover

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mailmover/auth"
	"mailmover/imapsrc"
	"mailmover/mover/journal"
	"mailmover/store"
)

func ExampleSafeName() {
	for _, s := range []string{"../../etc/passwd", "CON.txt", "invoice\u202Efdp.exe", "report.pdf. ."} {
		fmt.Println(SafeName(s))
	}
	// Output:
	// _.._etc_passwd
	// _CON.txt
	// invoice_fdp.exe
	// report.pdf
}

func TestReauthPausesTheMover(t *testing.T) {
	h := newHarness(t)
	reauth := &auth.ReauthError{Profile: "test", Code: "invalid_grant"}
	dials := 0
	ev := make(chan Event, 100)
	m, err := New(Options{Profile: h.prof, Home: h.home, Events: ev, PauseRetry: 5 * time.Millisecond,
		Dial: func(ctx context.Context) (Source, error) {
			dials++
			if dials <= 2 {
				return nil, &imapsrc.Error{Kind: imapsrc.KindToken, Op: "sign-in", Err: reauth}
			}
			return h.srv.dial(ctx)
		}})
	if err != nil {
		t.Fatal(err)
	}
	// RunOnce gives up at once and says so.
	if err := m.RunOnce(context.Background()); !errors.As(err, &reauth) {
		t.Fatalf("RunOnce = %v, want the ReauthError", err)
	}
	p := waitKind(t, ev, KindPaused)
	if !strings.Contains(p.Text, "sign in again") || p.Advice == "" {
		t.Errorf("paused event %+v", p)
	}
	// Run keeps trying and goes on once the sign-in works again.
	h.addMail(1, 1, "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	waitKind(t, ev, KindPaused)
	waitKind(t, ev, KindFileSaved)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	h.exactlyOnce()
}

// endlessBody yields limit bytes of a base64 attachment slowly and then blocks until released.
type endlessBody struct {
	head    string
	sent    atomic.Int64
	limit   int64
	release chan struct{}
}

func (b *endlessBody) Read(p []byte) (int, error) {
	if b.head != "" {
		n := copy(p, b.head)
		b.head = b.head[n:]
		return n, nil
	}
	sent := b.sent.Load()
	if sent >= b.limit {
		<-b.release
		return 0, errBroken
	}
	n := min(len(p), int(b.limit-sent))
	for i := range n {
		if (int(sent)+i)%77 == 76 {
			p[i] = '\n'
		} else {
			p[i] = 'Q'
		}
	}
	b.sent.Add(int64(n))
	return n, nil
}

// streamSource serves one huge message whose body is generated while it is read.
type streamSource struct {
	fakeSource
	body *endlessBody
}

func (s *streamSource) Search(ctx context.Context, cr imapsrc.Criteria) (imapsrc.SearchResult, error) {
	return imapsrc.SearchResult{UIDValidity: 1, UIDs: []uint32{1}}, nil
}

func (s *streamSource) Select(ctx context.Context, name string) (imapsrc.Mailbox, error) {
	return imapsrc.Mailbox{Name: name, UIDValidity: 1, Messages: 1}, nil
}

func (s *streamSource) Fetch(ctx context.Context, uid uint32, fn func(*imapsrc.Message) error) error {
	return fn(&imapsrc.Message{UID: uid, Size: s.body.limit, Envelope: imapsrc.Envelope{Subject: "big"}, Body: s.body})
}

const bigHead = "From: a@example.com\r\nSubject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
	"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=big.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"

// TestStopDuringLargeAttachment stops the mover while it streams a big attachment: Run
// returns promptly, no temporary file is left, the message is not done, and memory
// stayed flat while 64 MB went by.
func TestStopDuringLargeAttachment(t *testing.T) {
	h := newHarness(t)
	body := &endlessBody{head: bigHead, limit: 64 << 20, release: make(chan struct{})}
	src := &streamSource{body: body}
	ev := make(chan Event, 100)
	m, err := New(Options{Profile: h.prof, Home: h.home, Events: ev,
		Dial: func(ctx context.Context) (Source, error) { return src, nil }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	runtime.GC()
	var peak uint64
	sample := make(chan struct{})
	go func() {
		defer close(sample)
		var ms runtime.MemStats
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			case <-done:
				return
			}
		}
	}()
	go func() {
		err := m.Run(ctx)
		done <- err
		done <- err
	}()
	waitKind(t, ev, KindMessage)
	// Wait until the whole body has gone by (the reader then blocks), then stop.
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for body.sentNow() < body.limit {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("the body was not read within 60s")
		}
	}
	stopAt := time.Now()
	cancel()
	close(body.release)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of the stop")
	}
	<-sample
	t.Logf("stopped in %s; peak heap in use %d KB while streaming 64 MB", time.Since(stopAt).Round(time.Millisecond), peak>>10)
	if peak > 32<<20 {
		t.Errorf("peak heap in use %d MB: memory grows with the message", peak>>20)
	}
	entries, _ := os.ReadDir(h.dest)
	for _, e := range entries {
		t.Errorf("left in the destination: %s", e.Name())
	}
	st, _ := journal.Load(h.home, "test")
	if len(st.Messages) != 0 {
		t.Errorf("state has messages: %+v", st.Messages)
	}
}

func (b *endlessBody) sentNow() int64 { return b.sent.Load() }

// TestTwoProfilesShareADestination: each profile's start-up clean-up leaves the other
// profile's temporary files alone, and both save their files.
func TestTwoProfilesShareADestination(t *testing.T) {
	a, b := newHarness(t), newHarness(t)
	b.prof.Name = "other"
	b.home, b.dest = a.home, a.dest
	b.prof.Destination.Folder = a.dest
	os.MkdirAll(a.dest, 0o755)
	foreign := filepath.Join(a.dest, tempPrefixFor("other")+"inflight")
	os.WriteFile(foreign, []byte("x"), 0o644)
	a.addMail(1, 2, "")
	if err := a.runOnce(hooks{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("profile test removed profile other's temporary file: %v", err)
	}
	os.Remove(foreign)
	b.srv.add("INBOX", buildMessage(2, "x", "a@example.com", "t", attachment{name: "file-1-0.pdf", data: []byte("other's")}))
	if err := b.runOnce(hooks{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(a.dest, "file-1-0 (2).pdf")); err != nil {
		t.Errorf("the second profile's same-named file: %v", err)
	}
	for _, n := range []string{"test", "other"} {
		if _, err := os.Stat(store.StatePath(a.home, n)); err != nil {
			t.Errorf("state of %s: %v", n, err)
		}
	}
}

func TestBrokenMessageFailsOthersGoOn(t *testing.T) {
	h := newHarness(t)
	h.addMail(1, 1, "")
	broken := "From: a@example.com\r\nSubject: broken\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=bad.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"!!!! not base64 at all ****\r\n--b--\r\n"
	bad := h.srv.add("INBOX", []byte(broken))
	h.addMail(3, 1, "")
	ev := make(chan Event, 100)
	err := h.mover(hooks{}, ev).RunOnce(context.Background())
	var fe *FailedError
	if !errors.As(err, &fe) || fe.Failed != 1 {
		t.Fatalf("RunOnce = %v, want 1 failed", err)
	}
	h.exactlyOnce()
	close(ev)
	found := false
	for e := range ev {
		if e.Kind == KindError && e.UID == bad {
			found = true
			t.Logf("error event: %s", e.Text)
		}
	}
	if !found {
		t.Error("no error event for the broken message")
	}
	h.srv.mu.Lock()
	if h.srv.find("INBOX", bad).seen {
		t.Error("the broken message was marked seen")
	}
	h.srv.mu.Unlock()
}

// TestRunRetriesFailedMessages: in Run, a failed message is tried again after the poll
// interval even when no new mail comes (IDLE would wait for new mail).
func TestRunRetriesFailedMessages(t *testing.T) {
	h := newHarness(t)
	uid := h.addMail(1, 1, "")
	h.srv.failPost[uid] = 1
	ev := make(chan Event, 100)
	m := h.mover(hooks{}, ev)
	m.prof.Common.PollInterval.Duration = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	if e := waitKind(t, ev, KindError); e.UID != uid {
		t.Fatalf("error event for UID %d, want %d", e.UID, uid)
	}
	if e := waitKind(t, ev, KindMessageDone); e.UID != uid {
		t.Fatalf("done event for UID %d", e.UID)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	h.exactlyOnce()
	if h.srv.fetches[uid] != 1 {
		t.Errorf("fetched %d times; the retry needs only the post-action", h.srv.fetches[uid])
	}
}

// A part in an unknown charset is saved as sent, with a warning: the message moves (a
// retry could never do better), unlike a truly broken one.
func TestUnknownCharsetMovesWithWarning(t *testing.T) {
	h := newHarness(t)
	raw := "From: a@example.com\r\nSubject: klingon\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=x-klingon-9\r\n\r\nqapla'\r\n" +
		"--b\r\nContent-Type: text/csv; charset=x-klingon-9\r\nContent-Disposition: attachment; filename=report.csv\r\n\r\na;b\r\n--b--\r\n"
	uid := h.srv.add("INBOX", []byte(raw))
	ev := make(chan Event, 100)
	if err := h.mover(hooks{}, ev).RunOnce(context.Background()); err != nil {
		t.Fatalf("RunOnce = %v, want the message moved", err)
	}
	close(ev)
	warned := false
	for e := range ev {
		if e.Kind == KindError {
			t.Errorf("error event: %s", e.Text)
		}
		if e.Kind == KindWarning && e.UID == uid && strings.Contains(e.Text, "x-klingon-9") {
			warned = true
		}
	}
	if !warned {
		t.Error("no warning naming the unknown charset")
	}
	got, err := os.ReadFile(filepath.Join(h.dest, "report.csv"))
	if err != nil || string(got) != "a;b" {
		t.Errorf("report.csv = %q, %v; want the bytes as sent", got, err)
	}
	h.srv.mu.Lock()
	defer h.srv.mu.Unlock()
	if !h.srv.find("INBOX", uid).seen {
		t.Error("the message was not marked seen")
	}
}

// A message from which nothing is saved is never moved or deleted (that would lose mail
// nobody sees in the destination), but it is recorded done and not fetched again; with
// after = "seen" it is still marked read.
func TestNothingSavedIsNotMovedOrDeleted(t *testing.T) {
	for _, after := range []string{store.AfterDelete, store.AfterMove, store.AfterSeen} {
		t.Run(after, func(t *testing.T) {
			h := newHarness(t)
			h.prof.Common.After = after
			h.prof.Common.MoveTo = "Done"
			h.srv.folders["Done"] = nil
			h.prof.Common.AttachmentMask = "*.pdf"
			saved := h.addMail(1, 1, "")
			none := h.srv.add("INBOX", buildMessage(2, "no pdf", "a@example.com", "hello",
				attachment{name: "logo.png", ctype: "image/png", data: []byte("png")}))
			if err := h.runOnce(hooks{}); err != nil {
				t.Fatal(err)
			}
			h.srv.mu.Lock()
			msg := h.srv.find("INBOX", none)
			gone := h.srv.find("INBOX", saved) == nil
			h.srv.mu.Unlock()
			if msg == nil {
				t.Fatalf("after = %s: the message with nothing saved left INBOX", after)
			}
			if after == store.AfterSeen && !msg.seen {
				t.Errorf("after = seen: the message was not marked read")
			}
			if after != store.AfterSeen && !gone {
				t.Errorf("after = %s: the message whose file was saved is still in INBOX", after)
			}
			if err := h.runOnce(hooks{}); err != nil {
				t.Fatal(err)
			}
			if n := h.srv.fetches[none]; n != 1 {
				t.Errorf("the message with nothing saved was fetched %d times, want 1", n)
			}
		})
	}
}
