package bench

import (
	"bytes"
	"encoding/base64"
	"io"
	"testing"

	"mailmover/imapsrc"
)

// This file measures how fast imapsrc turns a base64 attachment into its bytes (the
// CPU hot spot of `mm-bench profile`), next to a single-pass decoder proposed for
// imapsrc's base64 path (see docs/benchmarks.md and the performance report):
//
//	go test -run NONE -bench 'WalkParts|ProposedBase64' ./bench/

// oneMsg returns a generated message with one 1 MiB attachment, and its base64 text.
func oneMsg() ([]byte, []byte) {
	spec := Spec{Seed: 1, N: 1, MinAtt: 1, MaxAtt: 1, MinSize: 1 << 20, MaxSize: 1 << 20, Prefix: "x"}
	g := &Generator{Spec: spec}
	raw, _ := g.Message(0)
	raw = bytes.Clone(raw)
	i := bytes.Index(raw, []byte("base64\r\n\r\n")) + 10
	j := bytes.LastIndex(raw, []byte("--=_bench"))
	return raw, raw[i:j]
}

var b64ok = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") {
		t[c] = true
	}
	return
}()

// fastB64 is the proposed decoder: one table-driven filtering pass (RFC 2045 6.8: skip
// characters outside the alphabet, stop at '='), then bulk Decode of whole quanta.
type fastB64 struct {
	r    io.Reader
	in   []byte
	acc  []byte
	out  []byte
	obuf []byte
	done bool
	err  error
}

func newFastB64(r io.Reader) *fastB64 {
	return &fastB64{r: r, in: make([]byte, 64<<10), acc: make([]byte, 0, 64<<10+4), obuf: make([]byte, 48<<10+3)}
}

func (d *fastB64) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.done || d.err != nil {
			if len(d.acc) >= 2 { // the last partial quantum
				n, _ := base64.RawStdEncoding.Decode(d.obuf, d.acc)
				d.acc, d.out = d.acc[:0], d.obuf[:n]
				break
			}
			if d.err != nil && d.err != io.EOF {
				return 0, d.err
			}
			return 0, io.EOF
		}
		n, err := d.r.Read(d.in)
		acc := d.acc
		for _, c := range d.in[:n] {
			if b64ok[c] {
				acc = append(acc, c)
			} else if c == '=' {
				d.done = true
				break
			}
		}
		d.err = err
		k := len(acc) / 4 * 4
		m, derr := base64.StdEncoding.Decode(d.obuf, acc[:k])
		if derr != nil {
			return 0, derr
		}
		d.out = d.obuf[:m]
		d.acc = append(d.acc[:0], acc[k:]...)
	}
	c := copy(p, d.out)
	d.out = d.out[c:]
	return c, nil
}

func BenchmarkWalkParts(b *testing.B) {
	raw, _ := oneMsg()
	buf := make([]byte, 256<<10)
	b.SetBytes(1 << 20)
	for b.Loop() {
		var got int64
		_, err := imapsrc.WalkParts(bytes.NewReader(raw), func(p *imapsrc.Part) error {
			n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{p.Body}, buf)
			got += n
			return err
		})
		if err != nil || got < 1<<20 { // the attachment, and the text part
			b.Fatal(got, err)
		}
	}
}

func BenchmarkProposedBase64(b *testing.B) {
	_, body := oneMsg()
	buf := make([]byte, 256<<10)
	b.SetBytes(1 << 20)
	for b.Loop() {
		n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{newFastB64(bytes.NewReader(body))}, buf)
		if err != nil || n != 1<<20 {
			b.Fatal(n, err)
		}
	}
}

func TestProposedBase64(t *testing.T) {
	_, body := oneMsg()
	want := make([]byte, 1<<20)
	Spec{Seed: 1, N: 1, MinAtt: 1, MaxAtt: 1, MinSize: 1 << 20, MaxSize: 1 << 20, Prefix: "x"}.content(0, 0, want)
	got, err := io.ReadAll(newFastB64(bytes.NewReader(body)))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatal(len(got), err)
	}
}
