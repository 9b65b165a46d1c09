package imapsrc

import (
	"context"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"mailmover/internal/badimap"
)

// The tests of this file play a broken or hostile server (internal/badimap) and check
// that each case ends with a clear error, soon, with bounded memory, and without reading
// all the server tries to send.

// Bounds the tests check: the Go heap may not grow by more than heapBudget while a case
// runs (the bounds of limit.go keep it to a few times 8 MiB), and the server may not get
// more than sentBudget bytes out (the rest stays in the sockets' buffers, or is never
// sent); a case must end within caseTime.
const (
	heapBudget = 96 << 20
	sentBudget = 48 << 20
	caseTime   = 20 * time.Second
)

// startBad starts a bad server in mode for the test.
func startBad(t *testing.T, mode badimap.Mode) *badimap.Server {
	t.Helper()
	s, err := badimap.Start(mode)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func badConfig(t *testing.T, s *badimap.Server, timeout time.Duration) Config {
	return Config{Host: s.Host(), Port: s.Port(), TLS: tlsNone, Auth: authPassword, Username: "u", Password: "p",
		Folder: "INBOX", Timeout: timeout, Logger: testLogger(t)}
}

// heapWatch samples the heap while a case runs; it cancels the case's context when the
// heap grows past four times the budget (so that a broken bound cannot take the machine
// down) and reports the largest growth seen.
type heapWatch struct {
	base, peak uint64
	stop       chan struct{}
	done       sync.WaitGroup
}

func watchHeap(cancel context.CancelFunc) *heapWatch {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w := &heapWatch{base: ms.HeapAlloc, peak: ms.HeapAlloc, stop: make(chan struct{})}
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			w.peak = max(w.peak, ms.HeapAlloc)
			if w.peak > w.base+4*heapBudget {
				cancel()
			}
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// growth stops the watch and returns the largest heap growth seen.
func (w *heapWatch) growth() uint64 {
	close(w.stop)
	w.done.Wait()
	return w.peak - w.base
}

// badCase runs f against a bad server in mode and checks time, memory and what was read;
// f returns the error the case ends with, which must be an *Error of kind and name what
// happened (wantText).
func badCase(t *testing.T, mode badimap.Mode, timeout time.Duration, kind Kind, wantText string,
	f func(ctx context.Context, cfg Config) error) {
	t.Helper()
	s := startBad(t, mode)
	ctx, cancel := context.WithTimeout(context.Background(), caseTime)
	defer cancel()
	w := watchHeap(cancel)
	start := time.Now()
	err := f(ctx, badConfig(t, s, timeout))
	took := time.Since(start)
	grew := w.growth()
	t.Logf("%v after %s; heap grew by %d MiB; the server sent %d MiB", err, took.Round(time.Millisecond), grew>>20, s.Sent()>>20)
	if ctx.Err() != nil {
		t.Fatalf("the case did not end by itself within %s (or the heap grew past %d MiB): %v", caseTime, 4*heapBudget>>20, err)
	}
	var ie *Error
	if !errors.As(err, &ie) || ie.Kind != kind || !strings.Contains(err.Error(), wantText) {
		t.Fatalf("err = %v (kind %v), want a %v error naming %q", err, KindOf(err), kind, wantText)
	}
	if grew > heapBudget {
		t.Errorf("the heap grew by %d MiB, more than %d MiB", grew>>20, heapBudget>>20)
	}
	if n := s.Sent(); n > sentBudget {
		t.Errorf("the server got %d MiB out, more than %d MiB: the client went on reading", n>>20, sentBudget>>20)
	}
}

// An endless untagged line before sign-in ends Dial with a clear error, at 8 MiB.
func TestBadServerEndlessLinePreLogin(t *testing.T) {
	badCase(t, badimap.EndlessLinePreLogin, 10*time.Second, KindNetwork, "longer than 8 MiB",
		func(ctx context.Context, cfg Config) error {
			c, err := Dial(ctx, cfg)
			if err == nil {
				c.Close()
			}
			return err
		})
}

// An endless untagged line in answer to LIST (mailmover check) ends Check.
func TestBadServerEndlessLineList(t *testing.T) {
	badCase(t, badimap.EndlessLineList, 10*time.Second, KindNetwork, "longer than 8 MiB",
		func(ctx context.Context, cfg Config) error {
			_, err := Check(ctx, cfg, Criteria{})
			return err
		})
}

// An endless literal for a small message is the message's error (not read at all); the
// connection is given up, and FetchBatch ends with a network error.
func TestBadServerEndlessLiteral(t *testing.T) {
	for name, mode := range map[string]badimap.Mode{"endless": badimap.EndlessLiteral, "over size": badimap.LiteralOverSize} {
		t.Run(name, func(t *testing.T) { testBadLiteral(t, mode) })
	}
}

func testBadLiteral(t *testing.T, mode badimap.Mode) {
	badCase(t, mode, 10*time.Second, KindNetwork, "much larger than announced",
		func(ctx context.Context, cfg Config) error {
			c, err := Dial(ctx, cfg)
			if err != nil {
				return err
			}
			defer c.Close()
			var got []error
			var read int64
			err = c.FetchBatch(ctx, []uint32{1, 2, 3}, nil, func(m *Message) error {
				n, err := io.Copy(io.Discard, m.Body)
				read += n
				got = append(got, err)
				return err
			})
			if len(got) != 1 || KindOf(got[0]) != KindServer || !strings.Contains(got[0].Error(), "RFC822.SIZE") || read != 0 {
				t.Errorf("fn saw %v after %d bytes, want one message error naming RFC822.SIZE, before any byte", got, read)
			}
			return err
		})
}

// The same with Fetch, one message: the message's error.
func TestBadServerEndlessLiteralFetch(t *testing.T) {
	badCase(t, badimap.EndlessLiteral, 10*time.Second, KindServer, "RFC822.SIZE",
		func(ctx context.Context, cfg Config) error {
			c, err := Dial(ctx, cfg)
			if err != nil {
				return err
			}
			defer c.Close()
			return c.Fetch(ctx, 2, func(m *Message) error {
				_, err := io.Copy(io.Discard, m.Body)
				return err
			})
		})
}

// Small untagged lines without end during IDLE (each one resets an inactivity timer)
// end the IDLE at 1 MiB instead of at its 25-minute restart.
func TestBadServerEndlessIdleData(t *testing.T) {
	badCase(t, badimap.EndlessIdleData, 10*time.Second, KindNetwork, "during IDLE",
		func(ctx context.Context, cfg Config) error {
			c, err := Dial(ctx, cfg)
			if err != nil {
				return err
			}
			defer c.Close()
			return c.WaitForMail(ctx, true, 0)
		})
}

// A line trickled a byte at a time during IDLE ends after the timeout for one response,
// although a byte comes far more often than the inactivity timeout.
func TestBadServerTrickleIdleLine(t *testing.T) {
	badCase(t, badimap.TrickleIdleLine, 2*time.Second, KindNetwork, "took longer than 2s",
		func(ctx context.Context, cfg Config) error {
			c, err := Dial(ctx, cfg)
			if err != nil {
				return err
			}
			defer c.Close()
			return c.WaitForMail(ctx, true, 0)
		})
}

// A SEARCH answer without end (distinct UIDs, so that go-imap's set grows) ends at
// 8 MiB.
func TestBadServerHugeSearch(t *testing.T) {
	badCase(t, badimap.HugeSearch, 10*time.Second, KindNetwork, "in answer to SEARCH",
		func(ctx context.Context, cfg Config) error {
			c, err := Dial(ctx, cfg)
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = c.Search(ctx, Criteria{})
			return err
		})
}

// Huge envelopes are cut to a bounded size when kept: a batch of them cannot hold
// megabytes per message.
func TestBadServerHugeEnvelopes(t *testing.T) {
	s := startBad(t, badimap.HugeEnvelopes)
	c, err := Dial(ctxT(t), badConfig(t, s, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n := 0
	err = c.FetchBatch(ctxT(t), []uint32{1, 2, 3}, func(m *Message) bool {
		n++
		if len(m.Envelope.Subject) > maxEnvelopeField || !strings.HasPrefix(m.Envelope.Subject, "SSSS") {
			t.Errorf("UID %d: a subject of %d bytes was kept, want at most %d", m.UID, len(m.Envelope.Subject), maxEnvelopeField)
		}
		return false
	}, nil)
	if err != nil || n != 3 {
		t.Fatalf("FetchBatch: %v; %d messages", err, n)
	}
}

// A SEARCH answer given as a range is expanded only up to maxSearchUIDs, without a map
// (its memory is the list's).
func TestUIDListBound(t *testing.T) {
	if _, err := uidList(imap.UIDSet{{Start: 1, Stop: maxSearchUIDs + 1}}, 0); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("uidList of %d UIDs: %v", maxSearchUIDs+1, err)
	}
	// Overlapping ranges, as a server may send them: sorted, without duplicates.
	got, err := uidList(imap.UIDSet{{Start: 5, Stop: 9}, {Start: 6, Stop: 1}, {Start: 20, Stop: 20}}, 3)
	if err != nil || !slices.Equal(got, []uint32{3, 4, 5, 6, 7, 8, 9, 20}) {
		t.Fatalf("uidList = %v, %v", got, err)
	}
}
