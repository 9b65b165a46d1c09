package imapsrc

import (
	"bytes"
	"encoding/base64"
	"io"
	"math/rand"
	"testing"
)

// b64Message returns a message with a short text part and an attachment of data, base64
// encoded in 76-character lines as mailers send it.
func b64Message(data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("From: a@example.com\r\nSubject: att\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"B64\"\r\n\r\n--B64\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n" +
		"--B64\r\nContent-Type: application/octet-stream; name=\"a.bin\"\r\nContent-Disposition: attachment; filename=\"a.bin\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n")
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--B64--\r\n")
	return b.Bytes()
}

// BenchmarkWalkPartsBase64 measures WalkParts on a message with a 1 MiB base64
// attachment (the mover's CPU hot spot), in decoded bytes per second.
func BenchmarkWalkPartsBase64(b *testing.B) {
	data := make([]byte, 1<<20)
	rand.New(rand.NewSource(1)).Read(data)
	raw := b64Message(data)
	buf := make([]byte, 256<<10)
	b.SetBytes(1 << 20)
	for b.Loop() {
		var got int64
		_, err := WalkParts(bytes.NewReader(raw), func(p *Part) error {
			n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{p.Body}, buf)
			if p.IsAttachment {
				got += n
			}
			return err
		})
		if err != nil || got != 1<<20 {
			b.Fatal(got, err)
		}
	}
}
