//go:build unix

package mover

import (
	"bytes"
	"testing"
	"time"

	"mailmover/bench"
)

// BenchmarkMemimapReal moves 150 messages of the realistic benchmark mix (bench.RealSpec:
// quoted-printable text attachments, base64 documents, 8bit and binary parts, inline
// images, forwarded messages; about 70 MB) from the in-memory server per iteration, and
// checks that every attachment is there exactly once. It is the in-process stand-in of
// `make bench`'s realistic row, for CPU profiles:
//
//	go test -run NONE -bench MemimapReal -cpuprofile cpu.out ./mover/
func BenchmarkMemimapReal(b *testing.B) {
	g := &bench.Generator{Spec: bench.RealSpec(1, 150, "r")}
	var raws [][]byte
	var infos []bench.MessageInfo
	var total int64
	for i := range g.Spec.N {
		raw, info := g.Message(i)
		raws, infos = append(raws, bytes.Clone(raw)), append(infos, info)
		total += int64(len(raw))
	}
	for b.Loop() {
		b.StopTimer()
		tg := memTarget(b)
		h := newHarness(b)
		tg.append(b, raws...)
		for _, info := range infos {
			for _, a := range info.Attachments {
				h.want[a.SHA256] = a.Name
			}
		}
		o := h.useTarget(tg, "")
		b.StartTimer()
		start := time.Now()
		if err := runOnceOpts(b, o); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(total)/1e6/time.Since(start).Seconds(), "MB/s")
		b.StopTimer()
		h.exactlyOnce()
		b.StartTimer()
	}
}
