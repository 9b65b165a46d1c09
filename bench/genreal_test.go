package bench

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"mime/quotedprintable"
	"strings"
	"testing"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

// realParts walks an entity with go-message (an independent parser), descending into
// multiparts and attached messages, and calls fn for each part with a file name or of a
// kind that is not text/plain or text/html (what the manifest lists).
func realParts(t *testing.T, e *message.Entity, fn func(name string, body []byte, cte string)) {
	t.Helper()
	mt, _, _ := e.Header.ContentType()
	if mr := e.MultipartReader(); mr != nil {
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			realParts(t, p, fn)
		}
	}
	if mt == "message/rfc822" {
		inner, err := message.Read(e.Body)
		if err != nil {
			t.Fatal(err)
		}
		realParts(t, inner, fn)
		return
	}
	ah := mail.AttachmentHeader{Header: e.Header}
	name, err := ah.Filename()
	if err != nil {
		t.Fatalf("file name of a %s part: %v", mt, err)
	}
	if name == "" && (mt == "text/plain" || mt == "text/html") {
		io.Copy(io.Discard, e.Body)
		return
	}
	body, err := io.ReadAll(e.Body)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	fn(name, body, strings.ToLower(e.Header.Get("Content-Transfer-Encoding")))
}

// TestRealMessagesParse checks, through go-message, that every attachment of the
// realistic mix decodes to the bytes and name the manifest records, that messages have
// only CRLF line ends and no NUL, and that the mix holds what it promises: every transfer
// encoding, RFC 2231 and RFC 2047 names, attached messages, inline images, folded headers
// and quoted-printable lines over 76 characters.
func TestRealMessagesParse(t *testing.T) {
	spec := RealSpec(1, 300, "r")
	g := &Generator{Spec: spec}
	seen := map[string]int{}
	var total, maxSize int
	for i := range spec.N {
		raw, info := g.Message(i)
		total += len(raw)
		maxSize = max(maxSize, len(raw))
		if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) || bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\r")) {
			t.Fatalf("message %d has a bare CR or LF", i)
		}
		if bytes.IndexByte(raw, 0) >= 0 {
			t.Fatalf("message %d has a NUL", i)
		}
		for _, marker := range []string{"filename*0*=", "filename*=UTF-8''", "=?UTF-8?b?", "=?UTF-8?q?", "message/rfc822", "Content-Disposition: inline; filename", "\r\n\tby mail"} {
			if bytes.Contains(raw, []byte(marker)) {
				seen[marker]++
			}
		}
		for _, l := range bytes.Split(raw, []byte("\r\n")) {
			if len(l) > 200 && bytes.HasSuffix(l, []byte("=")) {
				seen["qp line > 200"]++
				break
			}
		}
		e, err := message.Read(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		k := 0
		realParts(t, e, func(name string, body []byte, cte string) {
			seen["cte "+cte]++
			if k >= len(info.Attachments) {
				t.Fatalf("message %d: more attachments than the manifest's %d", i, len(info.Attachments))
			}
			want := info.Attachments[k]
			sum := sha256.Sum256(body)
			if name != want.Name || len(body) != want.Size || hex.EncodeToString(sum[:]) != want.SHA256 {
				t.Fatalf("message %d attachment %d: got %q %d bytes, want %+v", i, k, name, len(body), want)
			}
			k++
		})
		if k != len(info.Attachments) {
			t.Fatalf("message %d: parsed %d attachments, manifest has %d", i, k, len(info.Attachments))
		}
	}
	for _, want := range []string{"cte base64", "cte quoted-printable", "cte 8bit", "cte binary", "filename*0*=",
		"filename*=UTF-8''", "message/rfc822", "Content-Disposition: inline; filename", "\r\n\tby mail", "qp line > 200"} {
		if seen[want] == 0 {
			t.Errorf("no message has %q", want)
		}
	}
	if seen["=?UTF-8?b?"]+seen["=?UTF-8?q?"] == 0 {
		t.Error("no RFC 2047 encoded word")
	}
	t.Logf("%d messages, %.1f MB, largest %.1f MB; %v", spec.N, float64(total)/1e6, float64(maxSize)/1e6, seen)
}

// TestQPEncodeRoundTrip checks the generator's quoted-printable encoder against the
// standard library's decoder, for both line widths.
func TestQPEncodeRoundTrip(t *testing.T) {
	texts := [][]byte{[]byte("a = b \r\n\tx\t\r\n\r\nÜber ß\r\n"), []byte(strings.Repeat("é", 500) + "\r\n"), []byte("no line end")}
	for _, text := range texts {
		for _, width := range []int{76, 998} {
			var b bytes.Buffer
			qpEncode(&b, text, width)
			for _, l := range bytes.Split(b.Bytes(), []byte("\r\n")) {
				if len(l) > width {
					t.Fatalf("line of %d > %d", len(l), width)
				}
			}
			got, err := io.ReadAll(quotedprintable.NewReader(&b))
			if err != nil || !bytes.Equal(got, text) {
				t.Fatalf("width %d: %q → %q (%v)", width, text, got, err)
			}
		}
	}
}
