package ui

import (
	"strings"
	"testing"
	"time"

	"mailmover/mover"
)

type sentNote struct{ title, body string }

func newTestNotifier() (*notifier, *time.Time, *[]sentNote) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	var sent []sentNote
	n := newNotifier(func() time.Time { return now }, func(title, body string) {
		sent = append(sent, sentNote{title, body})
	})
	return n, &now, &sent
}

func TestNotifierThrottlesPerCause(t *testing.T) {
	n, now, sent := newTestNotifier()
	paused := mover.Event{Kind: mover.KindPaused, Profile: "p", Advice: "Sign in again with GET"}
	n.event(paused)
	n.event(paused)
	if len(*sent) != 1 || !strings.Contains((*sent)[0].body, "Sign in again") {
		t.Fatalf("sent = %+v", *sent)
	}
	*now = now.Add(59 * time.Minute)
	n.event(paused)
	if len(*sent) != 1 {
		t.Fatal("a second notification within the hour")
	}
	// Another cause is not throttled by the first.
	n.lapse("p", "the refresh token lapses around 2026-12-10")
	if len(*sent) != 2 {
		t.Fatal("the lapse warning was throttled by the pause")
	}
	*now = now.Add(2 * time.Minute)
	n.event(paused)
	if len(*sent) != 3 {
		t.Fatal("no notification after the hour")
	}
}

func TestNotifierRepeatedFailures(t *testing.T) {
	n, _, sent := newTestNotifier()
	fail := mover.Event{Kind: mover.KindError, Profile: "p", UID: 7, Text: "disk full"}
	n.event(fail)
	n.event(fail)
	if len(*sent) != 0 {
		t.Fatal("notified before the message failed repeatedly")
	}
	n.event(mover.Event{Kind: mover.KindError, Profile: "p", UID: 8, Text: "other"})
	// UID 7 of another mailbox is another message.
	n.event(mover.Event{Kind: mover.KindError, Profile: "q", UID: 7, Text: "other mailbox"})
	n.event(fail)
	if len(*sent) != 1 || !strings.Contains((*sent)[0].body, "Message 7 failed 3 times") {
		t.Fatalf("sent = %+v", *sent)
	}
	// A message that got done again starts from zero.
	n.event(mover.Event{Kind: mover.KindMessageDone, Profile: "p", UID: 8})
	n.mu.Lock()
	_, still := n.failures[failureKey{"p", 8}]
	n.mu.Unlock()
	if still {
		t.Error("failures of a done message kept")
	}
}
