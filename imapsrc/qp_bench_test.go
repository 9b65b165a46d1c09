package imapsrc

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"mime/quotedprintable"
	"testing"
)

// qpText returns about n bytes of CSV-like text (semicolons, umlauts, "=", lines of
// 40–200 characters) and its quoted-printable encoding (76-character lines, soft breaks).
func qpText(n int) (text, enc []byte) {
	r := rand.New(rand.NewSource(1))
	words := []string{"Rechnung", "Müller", "Straße", "Köln", "Größe", "total", "=", "1.234,56", "EUR", "Übersicht"}
	var b bytes.Buffer
	for b.Len() < n {
		for range 4 + r.Intn(25) {
			b.WriteString(words[r.Intn(len(words))])
			b.WriteByte(';')
		}
		b.WriteString("\r\n")
	}
	var e bytes.Buffer
	w := quotedprintable.NewWriter(&e)
	w.Write(b.Bytes())
	w.Close()
	return b.Bytes(), e.Bytes()
}

// BenchmarkQPDecode compares qpDecoder with how quoted-printable was decoded before (the
// standard library's decoder over a qpLineBreaker), in decoded bytes per second.
func BenchmarkQPDecode(b *testing.B) {
	text, enc := qpText(1 << 20)
	buf := make([]byte, 256<<10)
	for _, dec := range []struct {
		name string
		new  func(io.Reader) io.Reader
	}{
		{"qpDecoder", func(r io.Reader) io.Reader { return newQPDecoder(r) }},
		{"stdlib+breaker", func(r io.Reader) io.Reader { return quotedprintable.NewReader(&qpLineBreaker{r: r}) }},
	} {
		b.Run(dec.name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{dec.new(bytes.NewReader(enc))}, buf)
				if err != nil || n != int64(len(text)) {
					b.Fatal(n, err)
				}
			}
		})
	}
}

// BenchmarkWalkPartsQP measures WalkParts on a message with a 1 MiB quoted-printable CSV
// attachment, in decoded bytes per second.
func BenchmarkWalkPartsQP(b *testing.B) {
	text, enc := qpText(1 << 20)
	raw := []byte(fmt.Sprintf("From: a@example.com\r\nSubject: csv\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=\"QP\"\r\n\r\n--QP\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n"+
		"--QP\r\nContent-Type: text/csv; charset=utf-8; name=\"a.csv\"\r\nContent-Disposition: attachment; filename=\"a.csv\"\r\n"+
		"Content-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n--QP--\r\n", enc))
	buf := make([]byte, 256<<10)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		var got int64
		_, err := WalkParts(bytes.NewReader(raw), func(p *Part) error {
			n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{p.Body}, buf)
			if p.IsAttachment {
				got += n
			}
			return err
		})
		if err != nil || got != int64(len(text)) {
			b.Fatal(got, err)
		}
	}
}
