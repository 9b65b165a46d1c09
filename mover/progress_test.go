//go:build unix

package mover

import (
	"context"
	"testing"
	"time"
)

// progressRun moves n messages from the in-memory IMAP server with the events read by a
// consumer of a channel of the given capacity, and returns every event it read.
func progressRun(t *testing.T, n, capacity int) []Event {
	t.Helper()
	tg := memTarget(t)
	h := newHarness(t)
	tg.append(t, h.makeMail(n, 2_000, 9)...)
	o := h.useTarget(tg, "")
	ch := make(chan Event, capacity)
	o.Events = ch
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []Event, 1)
	go func() {
		var evs []Event
		for e := range ch {
			evs = append(evs, e)
		}
		got <- evs
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err = m.RunOnce(ctx)
	close(ch)
	if err != nil {
		t.Fatal(err)
	}
	h.exactlyOnce()
	select {
	case evs := <-got:
		return evs
	case <-time.After(10 * time.Second):
		t.Fatal("the event consumer did not finish")
		return nil
	}
}

// checkProgress asserts that the progress events of evs are monotone within each pass
// (a pass starts with KindFound), that the last one ends at n of n, and that the bytes
// so far never decrease and end at the bytes of the files saved in the pass. With
// lossless set, every message must have its own progress event (Done = 1, 2, … n).
func checkProgress(t *testing.T, evs []Event, n int, lossless bool) {
	t.Helper()
	var (
		found, progress   int
		last              *Event
		passBytes         int64
		prevBytes         int64
		prevCounterBytes  int64
		prevCounterFiles  int
		prevCounterMsgs   int
		passTotal, passNo int
	)
	for i := range evs {
		e := &evs[i]
		// The counters of the run never go back, on any event.
		if e.Counters.Bytes < prevCounterBytes || e.Counters.Files < prevCounterFiles || e.Counters.Messages < prevCounterMsgs {
			t.Fatalf("event %d (%s): counters went back: %+v after bytes %d files %d messages %d",
				i, e.Kind, e.Counters, prevCounterBytes, prevCounterFiles, prevCounterMsgs)
		}
		prevCounterBytes, prevCounterFiles, prevCounterMsgs = e.Counters.Bytes, e.Counters.Files, e.Counters.Messages
		switch e.Kind {
		case KindFound:
			found++
			passNo++
			passTotal, passBytes, prevBytes, last = e.Total, 0, 0, nil
		case KindFileSaved:
			passBytes += e.Bytes
		case KindProgress:
			progress++
			if passNo == 0 {
				t.Fatalf("event %d: progress before any KindFound: %+v", i, *e)
			}
			if e.Total != passTotal {
				t.Fatalf("event %d: progress total %d, the pass found %d", i, e.Total, passTotal)
			}
			want := 1
			if last != nil {
				want = last.Done + 1
				if e.Done < last.Done {
					t.Fatalf("event %d: done went back from %d to %d", i, last.Done, e.Done)
				}
			}
			if lossless && e.Done != want {
				t.Fatalf("event %d: done %d, want %d (one progress event per message)", i, e.Done, want)
			}
			if !lossless && e.Done < want {
				t.Fatalf("event %d: done %d repeated (previous %d)", i, e.Done, last.Done)
			}
			if e.Done > e.Total {
				t.Fatalf("event %d: done %d beyond total %d", i, e.Done, e.Total)
			}
			if e.Bytes < prevBytes {
				t.Fatalf("event %d: bytes so far went back from %d to %d", i, prevBytes, e.Bytes)
			}
			if e.Bytes > passBytes {
				t.Fatalf("event %d: bytes so far %d, but only %d bytes were saved in this pass", i, e.Bytes, passBytes)
			}
			prevBytes = e.Bytes
			last = e
		}
	}
	if found != 1 {
		t.Errorf("%d KindFound events, want 1 (one pass over %d messages)", found, n)
	}
	if last == nil {
		t.Fatal("no progress event")
	}
	if last.Done != n || last.Total != n {
		t.Errorf("last progress %d of %d, want %d of %d", last.Done, last.Total, n, n)
	}
	if last.Bytes != passBytes || last.Bytes == 0 {
		t.Errorf("last progress: %d bytes so far, want the %d bytes saved in the pass", last.Bytes, passBytes)
	}
	if last.Counters.Messages != n {
		t.Errorf("last progress: counters say %d messages done, want %d", last.Counters.Messages, n)
	}
	if lossless && progress != n {
		t.Errorf("%d progress events, want %d", progress, n)
	}
	t.Logf("%d events, %d progress, %d bytes", len(evs), progress, passBytes)
}

// TestProgressEventsMonotone500 moves 500 messages over IMAP with a consumer that keeps
// up: one progress event per message, 1…500 of 500, bytes so far never decreasing.
func TestProgressEventsMonotone500(t *testing.T) {
	const n = 500
	checkProgress(t, progressRun(t, n, 10*n), n, true)
}

// TestProgressFinalNotDropped moves 500 messages to a consumer on an unbuffered channel:
// progress events may be dropped while the consumer is busy, but those that arrive are
// monotone and the final n of n always arrives.
func TestProgressFinalNotDropped(t *testing.T) {
	const n = 500
	checkProgress(t, progressRun(t, n, 0), n, false)
}
