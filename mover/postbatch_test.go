package mover

import (
	"context"
	"errors"
	"testing"

	"mailmover/imapsrc"
	"mailmover/store"
)

// fakeBatchSource is a fakeSource that also applies post-actions to UID sets in one
// command. A set holding a UID whose post-action is set to fail is refused whole and
// changes nothing (as one IMAP command would).
type fakeBatchSource struct{ fakeSource }

var _ BatchSource = (*fakeBatchSource)(nil)

func (s *fakeBatchSource) batch(uids []uint32, one func(uid uint32) error) error {
	s.srv.mu.Lock()
	s.srv.batchCalls++
	if s.broken {
		s.srv.mu.Unlock()
		return errBroken
	}
	for _, uid := range uids {
		if s.srv.failPost[uid] > 0 {
			s.srv.mu.Unlock()
			return &imapsrc.Error{Kind: imapsrc.KindServer, Reason: "NO [SERVERBUG] post-action refused for the set (fake)"}
		}
	}
	s.srv.mu.Unlock()
	for _, uid := range uids {
		if err := one(uid); err != nil && imapsrc.KindOf(err) != imapsrc.KindGone {
			return err
		}
	}
	return nil
}

func (s *fakeBatchSource) MarkSeenUIDs(ctx context.Context, uids []uint32) error {
	return s.batch(uids, func(uid uint32) error { return s.MarkSeen(ctx, uid) })
}

func (s *fakeBatchSource) MoveUIDs(ctx context.Context, uids []uint32, folder string) error {
	return s.batch(uids, func(uid uint32) error { return s.Move(ctx, uid, folder) })
}

func (s *fakeBatchSource) DeleteUIDs(ctx context.Context, uids []uint32) error {
	return s.batch(uids, func(uid uint32) error { return s.Delete(ctx, uid) })
}

// TestBatchPostActions: a source with post-actions for UID sets gets one command per
// committed batch; every message is still saved once and its post-action applied once,
// after its files are in place.
func TestBatchPostActions(t *testing.T) {
	for _, after := range []string{store.AfterSeen, store.AfterMove, store.AfterDelete} {
		t.Run(after, func(t *testing.T) {
			h := newHarness(t)
			h.srv.batch = true
			h.prof.Common.After = after
			if after == store.AfterMove {
				h.prof.Common.MoveTo = "Done"
				h.srv.folders["Done"] = nil
			}
			for i := 1; i <= 10; i++ {
				h.addMail(i, 2, "")
			}
			h.checkFilesBeforePostAction()
			events := make(chan Event, 1000)
			if err := h.mover(hooks{}, events).RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			close(events)
			h.exactlyOnce()
			if h.srv.batchCalls != 1 {
				t.Errorf("%d post-action commands for sets, want 1 (one batch)", h.srv.batchCalls)
			}
			posted := map[uint32]int{}
			for ev := range events {
				if ev.Kind == KindPostAction {
					posted[ev.UID]++
				}
			}
			for uid := uint32(1); uid <= 10; uid++ {
				if h.srv.postActions[uid] != 1 || posted[uid] != 1 {
					t.Errorf("UID %d: %d post-actions on the server, %d events; want 1, 1", uid, h.srv.postActions[uid], posted[uid])
				}
			}
			all, unseen := h.srv.count("INBOX")
			if (after == store.AfterSeen && unseen != 0) || (after != store.AfterSeen && all != 0) {
				t.Errorf("INBOX: %d messages, %d unseen after %s", all, unseen, after)
			}
		})
	}
}

// TestBatchPostActionRefusedFallsBack: when the set is refused, each message is tried on
// its own; only the failing one stays unmarked (and is retried next pass).
func TestBatchPostActionRefusedFallsBack(t *testing.T) {
	h := newHarness(t)
	h.srv.batch = true
	for i := 1; i <= 4; i++ {
		h.addMail(i, 1, "")
	}
	h.srv.failPost[3] = 1 // refuses the set (without using up the fault), then UID 3 alone
	err := h.runOnce(hooks{})
	var fe *FailedError
	if !errors.As(err, &fe) || fe.Failed != 1 {
		t.Fatalf("RunOnce = %v, want one failed message", err)
	}
	if _, unseen := h.srv.count("INBOX"); unseen != 1 {
		t.Fatalf("%d unseen, want 1 (UID 3)", unseen)
	}
	if err := h.runOnce(hooks{}); err != nil {
		t.Fatal(err)
	}
	h.exactlyOnce()
	if _, unseen := h.srv.count("INBOX"); unseen != 0 {
		t.Fatalf("%d unseen after the retry", unseen)
	}
	for uid := uint32(1); uid <= 4; uid++ {
		if h.srv.postActions[uid] != 1 {
			t.Errorf("UID %d: %d post-actions, want 1", uid, h.srv.postActions[uid])
		}
	}
}
