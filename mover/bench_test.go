package mover

import (
	"testing"
	"time"
)

// BenchmarkMemimapMove moves 300 messages (1–2 attachments of up to 20 KB) from the
// in-memory server per iteration.
func BenchmarkMemimapMove(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		tg := memTarget(b)
		h := newHarness(b)
		tg.append(b, h.makeMail(300, 20_000, 2)...)
		o := h.useTarget(tg, "")
		b.StartTimer()
		start := time.Now()
		if err := runOnceOpts(b, o); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(300/time.Since(start).Seconds(), "msg/s")
	}
}
