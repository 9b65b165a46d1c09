//go:build unix

package mover

import (
	"testing"
	"time"
)

// benchMove runs one timed RunOnce per iteration over n fresh messages (1–2 attachments
// of up to maxSize bytes, from seed) appended to the server target gives, and reports
// per second the messages (msgs) and megabytes (mb) asked for. check verifies each file
// exactly once afterwards.
func benchMove(b *testing.B, target func(testing.TB) *imapTarget, n, maxSize int, seed uint64, msgs, mb, check bool) {
	for b.Loop() {
		b.StopTimer()
		tg := target(b)
		h := newHarness(b)
		raws := h.makeMail(n, maxSize, seed)
		var total int64
		for _, r := range raws {
			total += int64(len(r))
		}
		tg.append(b, raws...)
		o := h.useTarget(tg, "")
		b.StartTimer()
		start := time.Now()
		if err := runOnceOpts(b, o); err != nil {
			b.Fatal(err)
		}
		el := time.Since(start).Seconds()
		if mb {
			b.ReportMetric(float64(total)/1e6/el, "MB/s")
		}
		if msgs {
			b.ReportMetric(float64(n)/el, "msg/s")
		}
		if check {
			h.exactlyOnce()
		}
	}
}

// BenchmarkMemimapMove moves 300 messages (1–2 attachments of up to 20 KB) from the
// in-memory server per iteration.
func BenchmarkMemimapMove(b *testing.B) { benchMove(b, memTarget, 300, 20_000, 2, true, false, false) }

// BenchmarkMemimapLarge moves 40 messages with 1–2 attachments of up to 1 MB.
func BenchmarkMemimapLarge(b *testing.B) { benchMove(b, memTarget, 40, 1<<20, 3, false, true, false) }

// BenchmarkDovecotLarge moves 100 messages with 1–2 attachments of up to 1 MB from the
// test Dovecot over implicit TLS.
func BenchmarkDovecotLarge(b *testing.B) {
	benchMove(b, dovecotTarget, 100, 1<<20, 4, true, true, true)
}

// BenchmarkDovecotSmall moves 1,000 messages with 1–2 attachments of up to 20 KB.
func BenchmarkDovecotSmall(b *testing.B) {
	benchMove(b, dovecotTarget, 1000, 20_000, 5, true, false, false)
}
