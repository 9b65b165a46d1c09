package bench

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
)

func TestGeneratorIsReproducible(t *testing.T) {
	spec := DefaultSpec(7, 5, "t")
	a, b := &Generator{Spec: spec}, &Generator{Spec: spec}
	for i := range spec.N {
		ra, ia := a.Message(i)
		ra = bytes.Clone(ra)
		rb, ib := b.Message(i)
		if !bytes.Equal(ra, rb) {
			t.Fatalf("message %d differs between two generators of the same spec", i)
		}
		if ia.MessageID != ib.MessageID || len(ia.Attachments) != len(ib.Attachments) {
			t.Fatalf("message %d: infos differ: %+v vs %+v", i, ia, ib)
		}
	}
	other := &Generator{Spec: DefaultSpec(8, 5, "t")}
	r7, _ := a.Message(0)
	r7 = bytes.Clone(r7)
	r8, _ := other.Message(0)
	if bytes.Equal(r7, r8) {
		t.Fatal("seeds 7 and 8 gave the same message")
	}
}

func TestBuildManifestMatchesGenerator(t *testing.T) {
	spec := DefaultSpec(3, 4, "t")
	m := BuildManifest(spec)
	g := &Generator{Spec: spec}
	var total int64
	for i, mi := range m.Messages {
		raw, info := g.Message(i)
		total += int64(len(raw))
		if info.MessageID != mi.MessageID || info.Size != mi.Size || len(info.Attachments) != len(mi.Attachments) {
			t.Fatalf("message %d: manifest %+v, generator %+v", i, mi, info)
		}
	}
	if total != m.TotalBytes {
		t.Fatalf("TotalBytes = %d, the messages add up to %d", m.TotalBytes, total)
	}
	if len(m.ByHash()) != m.TotalAtt {
		t.Fatalf("ByHash has %d hashes for %d attachments: contents are not unique", len(m.ByHash()), m.TotalAtt)
	}
}

// TestGeneratedMessageParses checks, through a real MIME parser, that each attachment
// decodes to the bytes whose hash the manifest records, within the spec's bounds.
func TestGeneratedMessageParses(t *testing.T) {
	spec := DefaultSpec(1, 12, "t")
	g := &Generator{Spec: spec}
	for i := range spec.N {
		raw, info := g.Message(i)
		if n := len(info.Attachments); n < spec.MinAtt || n > spec.MaxAtt {
			t.Fatalf("message %d has %d attachments, want %d–%d", i, n, spec.MinAtt, spec.MaxAtt)
		}
		if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
			t.Fatalf("message %d has a bare LF", i)
		}
		r, err := mail.CreateReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if id, _ := r.Header.MessageID(); id != info.MessageID {
			t.Fatalf("message %d: Message-ID %q, want %q", i, id, info.MessageID)
		}
		if d, _ := r.Header.Date(); !d.Equal(baseDate.Add(time.Duration(i) * time.Minute)) {
			t.Fatalf("message %d: Date %v", i, d)
		}
		k := 0
		for {
			p, err := r.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			ah, ok := p.Header.(*mail.AttachmentHeader)
			if !ok {
				continue
			}
			name, _ := ah.Filename()
			h := sha256.New()
			n, err := io.Copy(h, p.Body)
			if err != nil {
				t.Fatalf("message %d part %s: %v", i, name, err)
			}
			want := info.Attachments[k]
			if name != want.Name || int(n) != want.Size || hex.EncodeToString(h.Sum(nil)) != want.SHA256 {
				t.Fatalf("message %d attachment %d: got %s %d bytes, want %+v", i, k, name, n, want)
			}
			if n < int64(spec.MinSize) || n > int64(spec.MaxSize) || !strings.HasSuffix(name, ".bin") {
				t.Fatalf("message %d attachment %s: %d bytes outside %d–%d", i, name, n, spec.MinSize, spec.MaxSize)
			}
			k++
		}
		if k != len(info.Attachments) {
			t.Fatalf("message %d: parsed %d attachments, manifest has %d", i, k, len(info.Attachments))
		}
	}
}

func TestCheckDest(t *testing.T) {
	spec := Spec{Seed: 1, N: 2, MinAtt: 2, MaxAtt: 2, MinSize: 100, MaxSize: 200, Prefix: "c"}
	m := BuildManifest(spec)
	dir := t.TempDir()
	g := &Generator{Spec: spec}
	write := func(name string, i, j int) {
		b := make([]byte, m.Messages[i].Attachments[j].Size)
		g.Spec.content(i, j, b)
		if err := writeFile(dir+"/"+name, b); err != nil {
			t.Fatal(err)
		}
	}
	write("a", 0, 0)
	write("b", 0, 1)
	write("b (2)", 0, 1) // a duplicate
	write("c", 1, 0)     // message 1's second attachment is lost
	if err := writeFile(dir+"/.mailmover-tmp-x", []byte("partial")); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(dir+"/stranger", []byte("not from the mailbox")); err != nil {
		t.Fatal(err)
	}
	dc, err := CheckDest(dir, m)
	if err != nil {
		t.Fatal(err)
	}
	if dc.Files != 5 || dc.Lost != 1 || dc.Duplicated != 1 || dc.Extra != 1 || dc.Temps != 1 {
		t.Fatalf("CheckDest = files %d lost %d dup %d extra %d temps %d; want 5 1 1 1 1", dc.Files, dc.Lost, dc.Duplicated, dc.Extra, dc.Temps)
	}
}
