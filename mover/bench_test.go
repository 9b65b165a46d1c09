//go:build unix

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

// BenchmarkMemimapLarge moves 40 messages with 1–2 attachments of up to 1 MB.
func BenchmarkMemimapLarge(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		tg := memTarget(b)
		h := newHarness(b)
		raws := h.makeMail(40, 1<<20, 3)
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
		b.ReportMetric(float64(total)/1e6/time.Since(start).Seconds(), "MB/s")
	}
}

// BenchmarkDovecotLarge moves 100 messages with 1–2 attachments of up to 1 MB from the
// test Dovecot over implicit TLS.
func BenchmarkDovecotLarge(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		tg := dovecotTarget(b)
		h := newHarness(b)
		raws := h.makeMail(100, 1<<20, 4)
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
		b.ReportMetric(float64(total)/1e6/el, "MB/s")
		b.ReportMetric(100/el, "msg/s")
		h.exactlyOnce()
	}
}

// BenchmarkDovecotSmall moves 1,000 messages with 1–2 attachments of up to 20 KB.
func BenchmarkDovecotSmall(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		tg := dovecotTarget(b)
		h := newHarness(b)
		tg.append(b, h.makeMail(1000, 20_000, 5)...)
		o := h.useTarget(tg, "")
		b.StartTimer()
		start := time.Now()
		if err := runOnceOpts(b, o); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(1000/time.Since(start).Seconds(), "msg/s")
	}
}
