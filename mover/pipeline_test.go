package mover

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"mailmover/imapsrc"
)

// fetchBatchAll makes every fake source a BatchFetcher, so that the whole suite can run
// over the batch fetch: MM_TEST_FETCH_BATCH=1 go test ./mover.
var fetchBatchAll = os.Getenv("MM_TEST_FETCH_BATCH") == "1"

// fetchBatcher is a fake source that also fetches in batches.
type fetchBatcher struct {
	Source
	fs *fakeSource
}

// fetchBatcherPost is a fetchBatcher over a BatchSource.
type fetchBatcherPost struct {
	*fakeBatchSource
}

var (
	_ BatchFetcher = (*fetchBatcher)(nil)
	_ BatchFetcher = (*fetchBatcherPost)(nil)
	_ BatchSource  = (*fetchBatcherPost)(nil)
)

func (f *fakeServer) withFetchBatch(src Source) Source {
	if !f.fetchBatch && !fetchBatchAll {
		return src
	}
	switch s := src.(type) {
	case *fakeBatchSource:
		return &fetchBatcherPost{s}
	case *fakeSource:
		return &fetchBatcher{Source: s, fs: s}
	}
	return src
}

func (s *fetchBatcher) FetchBatch(ctx context.Context, uids []uint32, want func(*imapsrc.Message) bool, fn func(*imapsrc.Message) error) error {
	return s.fs.fetchBatch(ctx, uids, want, fn)
}

func (s *fetchBatcherPost) FetchBatch(ctx context.Context, uids []uint32, want func(*imapsrc.Message) bool, fn func(*imapsrc.Message) error) error {
	return s.fakeSource.fetchBatch(ctx, uids, want, fn)
}

// fetchBatch plays imapsrc.Client.FetchBatch over the fake mailbox: envelopes first, then
// the wanted bodies; cutAfter breaks the connection inside a body, and
// fakeBatchHooks.beforeBodies runs between the two commands (to expunge a message).
func (s *fakeSource) fetchBatch(ctx context.Context, uids []uint32, want func(*imapsrc.Message) bool, fn func(*imapsrc.Message) error) error {
	s.srv.mu.Lock()
	if s.broken {
		s.srv.mu.Unlock()
		return errBroken
	}
	s.srv.batchFetches = append(s.srv.batchFetches, slices.Clone(uids))
	var metas []*imapsrc.Message
	for _, uid := range uids {
		if m := s.srv.find(s.folder, uid); m != nil {
			metas = append(metas, &imapsrc.Message{UID: uid, Size: int64(len(m.raw)), Envelope: header(m.raw)})
		}
	}
	hook := s.srv.beforeBodies
	s.srv.mu.Unlock()
	var wanted []*imapsrc.Message
	for _, msg := range metas {
		if want == nil || want(msg) {
			wanted = append(wanted, msg)
		}
	}
	if hook != nil {
		hook()
	}
	for _, msg := range wanted {
		if err := ctx.Err(); err != nil {
			s.broken = true
			return err
		}
		s.srv.mu.Lock()
		m := s.srv.find(s.folder, msg.UID)
		if m == nil {
			s.srv.mu.Unlock()
			continue // expunged meanwhile: not sent
		}
		s.srv.fetches[msg.UID]++
		var body io.Reader = bytes.NewReader(m.raw)
		cut, isCut := s.srv.cutAfter[msg.UID]
		if isCut {
			delete(s.srv.cutAfter, msg.UID)
			body = &cutReader{r: body, n: cut}
		}
		s.srv.mu.Unlock()
		msg.Body = body
		err := fn(msg)
		msg.Body = nil
		if isCut {
			s.broken = true
			return errBroken
		}
		if err != nil {
			s.broken = true
			return err
		}
	}
	return nil
}

func batchHarness(t *testing.T) *harness {
	h := newHarness(t)
	h.srv.fetchBatch = true
	return h
}

// Messages go through the batch fetch: one FetchBatch for each commit batch, each
// message saved once, and no temporary file of another message is waiting when a
// post-action is applied.
func TestBatchFetchSavesEachOnce(t *testing.T) {
	h := batchHarness(t)
	for i := 1; i <= 2*batchFetchMessages+5; i++ {
		h.addMail(i, i%3+1, "")
	}
	h.checkFilesBeforePostAction()
	if err := h.runOnce(hooks{}); err != nil {
		t.Fatal(err)
	}
	h.exactlyOnce()
	if n := len(h.srv.batchFetches); n != 3 {
		t.Errorf("%d batch fetches, want 3", n)
	}
	for uid, n := range h.srv.fetches {
		if n != 1 {
			t.Errorf("UID %d fetched %d times", uid, n)
		}
	}
	if all, unseen := h.srv.count("INBOX"); unseen != 0 {
		t.Errorf("%d of %d unseen", unseen, all)
	}
}

// A filter that needs the envelope: the messages it refuses are skipped without their
// bodies being fetched, and stay unmarked; the others are saved.
func TestBatchFetchWithFilter(t *testing.T) {
	h := batchHarness(t)
	h.prof.Common.Subject = "invoice"
	var skip []uint32
	for i := 1; i <= 12; i++ {
		if i%3 == 0 {
			skip = append(skip, h.srv.add("INBOX", buildMessage(100+i, fmt.Sprintf("Newsletter %d", i), "news@example.com", "hi",
				attachment{name: fmt.Sprintf("news-%d.pdf", i), data: []byte(strings.Repeat("news ", 40+i))})))
			continue
		}
		h.addMail(i, 1, "")
	}
	ev := make(chan Event, 1000)
	if err := h.mover(hooks{}, ev).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	close(ev)
	h.exactlyOnce() // the newsletters' attachments are not there
	skipped := 0
	for e := range ev {
		if e.Kind == KindSkipped && strings.Contains(e.Text, "subject filter") {
			skipped++
		}
	}
	if skipped != len(skip) {
		t.Errorf("%d skip events for the filter, want %d", skipped, len(skip))
	}
	for _, uid := range skip {
		if h.srv.fetches[uid] != 0 {
			t.Errorf("filtered UID %d: body fetched %d times", uid, h.srv.fetches[uid])
		}
		if m := h.srv.find("INBOX", uid); m == nil || m.seen {
			t.Errorf("filtered UID %d was marked or moved", uid)
		}
	}
	// A second run does not fetch them again either.
	if err := h.runOnce(hooks{}); err != nil {
		t.Fatal(err)
	}
	for _, uid := range skip {
		if h.srv.fetches[uid] != 0 {
			t.Errorf("filtered UID %d fetched on the second run", uid)
		}
	}
}

// The connection breaks in the middle of a batch: the messages fetched before the cut
// are committed, and the next session finishes the rest, every file exactly once and
// every message marked once its files are durable.
func TestBatchFetchCutThenNewSessionExactlyOnce(t *testing.T) {
	for _, after := range []string{"seen", "move", "delete"} {
		t.Run(after, func(t *testing.T) {
			h := batchHarness(t)
			h.srv.batch = true
			h.prof.Common.After = after
			if after == "move" {
				h.prof.Common.MoveTo = "Archive"
				h.srv.folders["Archive"] = nil
			}
			var uids []uint32
			for i := 1; i <= 40; i++ {
				uids = append(uids, h.addMail(i, i%2+1, ""))
			}
			h.srv.cutAfter[uids[9]] = 700
			h.srv.cutAfter[uids[25]] = 50
			h.checkFilesBeforePostAction()
			ev := make(chan Event, 4000)
			if err := h.mover(hooks{}, ev).RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			close(ev)
			h.exactlyOnce()
			retries := 0
			for e := range ev {
				if e.Kind == KindRetry {
					retries++
				}
			}
			if retries != 2 {
				t.Errorf("%d retries, want 2", retries)
			}
			if h.srv.dials != 3 {
				t.Errorf("%d connections, want 3", h.srv.dials)
			}
			for _, uid := range uids {
				want := 1
				if uid == uids[9] || uid == uids[25] {
					want = 2
				}
				if h.srv.fetches[uid] != want {
					t.Errorf("UID %d fetched %d times, want %d", uid, h.srv.fetches[uid], want)
				}
			}
			all, unseen := h.srv.count("INBOX")
			switch after {
			case "seen":
				if unseen != 0 {
					t.Errorf("%d unseen", unseen)
				}
			default:
				if all != 0 {
					t.Errorf("%d messages left in INBOX", all)
				}
			}
		})
	}
}

// A crash (kill -9) at each step of a message in the middle of a batch, then a restart:
// every file exactly once, no temporary file left.
func TestBatchFetchCrashMidBatch(t *testing.T) {
	for _, step := range []string{stepFetched, stepCommitted, stepPlaced, stepPostAction, stepDone} {
		t.Run(step, func(t *testing.T) {
			h := batchHarness(t)
			var uids []uint32
			for i := 1; i <= 20; i++ {
				uids = append(uids, h.addMail(i, 2, ""))
			}
			crashAt := uids[7]
			crash := hooks{step: func(s string, uid uint32) error {
				if s == step && uid == crashAt {
					return errSimulatedCrash
				}
				return nil
			}}
			if err := h.runOnce(crash); !errors.Is(err, errSimulatedCrash) {
				t.Fatalf("first run: %v, want the simulated crash", err)
			}
			if err := h.runOnce(hooks{}); err != nil {
				t.Fatal(err)
			}
			h.exactlyOnce()
			if _, unseen := h.srv.count("INBOX"); unseen != 0 {
				t.Errorf("%d unseen", unseen)
			}
		})
	}
}

// A message expunged between the envelopes and the bodies is gone (skipped); a broken
// message fails alone; the others of the batch are saved.
func TestBatchFetchGoneAndBrokenInBatch(t *testing.T) {
	h := batchHarness(t)
	var uids []uint32
	for i := 1; i <= 8; i++ {
		uids = append(uids, h.addMail(i, 1, ""))
	}
	gone := uids[3]
	goneHashes := h.byUID[gone]
	for _, hs := range goneHashes {
		delete(h.want, hs)
	}
	broken := h.srv.add("INBOX", []byte("From: x@example.com\r\nSubject: broken\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJD\r\nA\r\n--B--\r\n"))
	h.srv.beforeBodies = func() {
		h.srv.mu.Lock()
		defer h.srv.mu.Unlock()
		msgs := h.srv.folders["INBOX"]
		if i := slices.IndexFunc(msgs, func(m *fakeMsg) bool { return m.uid == gone }); i >= 0 {
			h.srv.folders["INBOX"] = slices.Delete(msgs, i, i+1)
		}
	}
	ev := make(chan Event, 1000)
	err := h.mover(hooks{}, ev).RunOnce(context.Background())
	close(ev)
	var fe *FailedError
	if !errors.As(err, &fe) || fe.Failed != 1 {
		t.Fatalf("got %v, want one failed message", err)
	}
	h.exactlyOnce()
	var goneEv, failEv bool
	for e := range ev {
		goneEv = goneEv || e.Kind == KindSkipped && e.UID == gone && strings.Contains(e.Text, "gone")
		failEv = failEv || e.Kind == KindError && e.UID == broken
	}
	if !goneEv || !failEv {
		t.Errorf("gone event %v, failure event %v", goneEv, failEv)
	}
	if m := h.srv.find("INBOX", broken); m == nil || m.seen {
		t.Errorf("the broken message was marked")
	}
}

// A stop in the middle of a batch ends the run promptly; what was committed is done, the
// rest is done exactly once by the next run.
func TestBatchFetchStopMidBatch(t *testing.T) {
	h := batchHarness(t)
	for i := 1; i <= 30; i++ {
		h.addMail(i, 2, "")
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	stop := hooks{step: func(s string, uid uint32) error {
		if s == stepFetched {
			if n++; n == 5 {
				cancel()
			}
		}
		return nil
	}}
	if err := h.mover(stop, nil).RunOnce(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	h.files() // no temporary file left
	if err := h.runOnce(hooks{}); err != nil {
		t.Fatal(err)
	}
	h.exactlyOnce()
}

// A full disk while files are written in the background: the message whose file could
// not be written fails (at its commit at the latest) and stays unmarked; the others of
// the batch are saved; with space again the next run saves it.
func TestBatchFetchDiskFull(t *testing.T) {
	h := batchHarness(t)
	h.addMail(1, 1, "")
	big := attachment{name: "big.pdf", data: []byte(strings.Repeat("x", 200_000))}
	bigUID := h.srv.add("INBOX", buildMessage(2, "Big", "billing@example.com", "hi", big))
	h.addMail(3, 1, "")
	full := true
	hk := hooks{wrap: func(w io.Writer) io.Writer {
		if !full {
			return w
		}
		return &failingWriter{w: w, limit: 100_000, err: &os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}}
	}}
	ev := make(chan Event, 1000)
	err := h.mover(hk, ev).RunOnce(context.Background())
	close(ev)
	var fe *FailedError
	if !errors.As(err, &fe) || fe.Failed != 1 {
		t.Fatalf("RunOnce = %v, want 1 failed message", err)
	}
	sawAdvice := false
	for e := range ev {
		sawAdvice = sawAdvice || e.Kind == KindError && e.UID == bigUID && strings.Contains(e.Advice, "full")
	}
	if !sawAdvice {
		t.Error("no error event for the big message saying the disk is full")
	}
	h.exactlyOnce()
	if m := h.srv.find("INBOX", bigUID); m.seen {
		t.Error("the failed message was marked seen")
	}
	full = false
	h.want[sum(big.data)] = "big.pdf"
	if err := h.runOnce(hk); err != nil {
		t.Fatal(err)
	}
	h.exactlyOnce()
}

// A connection that breaks before a batch's first message is complete halves the next
// batch fetch (a link that keeps breaking still makes progress); a complete batch doubles
// it back.
func TestBatchFetchShrinksAfterABreakWithoutProgress(t *testing.T) {
	h := batchHarness(t)
	h.srv.batch = true
	var uids []uint32
	n := batchFetchMessages + batchFetchMessages/4 // more than one batch, less than 1.5
	for i := 1; i <= n; i++ {
		uids = append(uids, h.addMail(i, 1, ""))
	}
	h.srv.cutAfter[uids[0]] = 50
	if err := h.mover(hooks{}, nil).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.exactlyOnce()
	var sizes []int
	for _, b := range h.srv.batchFetches {
		sizes = append(sizes, len(b))
	}
	want := []int{batchFetchMessages, batchFetchMessages / 2, n - batchFetchMessages/2}
	if !slices.Equal(sizes, want) {
		t.Errorf("batch fetch sizes %v, want %v", sizes, want)
	}
}

// A file written in the background is fsynced through its own descriptor after its last
// write, so the commit's syncFile does not open and fsync it again (a second fsync of a
// file not written since costs a device flush); a file whose early fsync did not happen
// is fsynced at the commit. The test removes each temporary file's name before
// syncFile: only a syncFile that goes back to the file by name notices.
func TestBackgroundFsyncNotRepeated(t *testing.T) {
	if !asyncWrites {
		t.Skip("files are written in the background only where unnamed files exist (Linux)")
	}
	d, err := openDest(t.TempDir(), "p")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.spares = startSpares(d, 2)
	defer d.spares.stop()
	tf, err := d.writeTemp(strings.NewReader(strings.Repeat("payload ", 100_000)))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.spares.waitWritten(tf.name); err != nil {
		t.Fatal(err)
	}
	if !d.spares.isSynced(tf.name) {
		t.Fatal("a file written in the background was not fsynced after its last write")
	}
	d.removeTemp(tf.name)
	if err := d.syncFile(tf.name); err != nil {
		t.Fatalf("syncFile of a file fsynced in the background: %v; want nil without opening it again", err)
	}
	// Asked once per file: a second syncFile (or a file never synced early) goes by name.
	if err := d.syncFile(tf.name); err == nil {
		t.Fatal("syncFile of a removed file that was not (or no longer) known as synced succeeded")
	}
	// An early fsync that failed fails the commit's (fsync may report an error once only).
	tf2, err := d.writeTemp(strings.NewReader("small"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.spares.waitWritten(tf2.name); err != nil {
		t.Fatal(err)
	}
	eio := &os.PathError{Op: "fsync", Path: tf2.name, Err: syscall.EIO}
	d.spares.markSynced(tf2.name, eio)
	if err := d.syncFile(tf2.name); !errors.Is(err, syscall.EIO) {
		t.Fatalf("syncFile after a failed early fsync = %v, want EIO", err)
	}
}
