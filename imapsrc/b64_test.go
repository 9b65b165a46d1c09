package imapsrc

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"math/rand"
	"strings"
	"testing"
	"testing/iotest"
)

// refB64 is the reference for b64Decoder: the standard library's decoding of the input
// with the characters outside the alphabet left out and cut at the first "=" (whose
// padding completes the last quantum). When that fails, want is the decoding of the
// complete quanta and err is io.ErrUnexpectedEOF.
func refB64(in []byte) (want []byte, err error) {
	var s []byte
	eq := false
	for _, c := range in {
		if isB64(c) {
			s = append(s, c)
		} else if c == '=' {
			eq = true
			break
		}
	}
	text := string(s)
	if r := len(s) % 4; eq && r >= 2 {
		text += "=="[:4-r]
	}
	if got, err := base64.StdEncoding.DecodeString(text); err == nil {
		return got, nil
	}
	got, err := base64.StdEncoding.DecodeString(string(s[:len(s)/4*4]))
	if err != nil {
		panic(err) // whole quanta of the alphabet always decode
	}
	return got, io.ErrUnexpectedEOF
}

// refAfterPad is the reference for b64Decoder.afterPad: the characters of the alphabet
// after the first "=" of in (not decoded: possibly data lost).
func refAfterPad(in []byte) int64 {
	_, rest, ok := bytes.Cut(in, []byte("="))
	if !ok {
		return 0
	}
	var n int64
	for _, c := range rest {
		if isB64(c) {
			n++
		}
	}
	return n
}

// mustB64 decodes s, which is valid base64.
func mustB64(s string) string {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// readB64 decodes in with b64Decoder, the input read through shape and the output read
// in pieces of size chunk; it also returns the decoder's afterPad.
func readB64(in []byte, shape func(io.Reader) io.Reader, chunk int) ([]byte, int64, error) {
	d := newB64Decoder(shape(bytes.NewReader(in)))
	var out []byte
	p := make([]byte, chunk)
	for {
		n, err := d.Read(p)
		out = append(out, p[:n]...)
		if err == io.EOF {
			return out, d.afterPad, nil
		}
		if err != nil {
			return out, d.afterPad, err
		}
	}
}

var b64Shapes = []struct {
	name  string
	shape func(io.Reader) io.Reader
}{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"one byte", iotest.OneByteReader},
	{"half", iotest.HalfReader},
	{"data+EOF", iotest.DataErrReader},
}

// checkB64 compares b64Decoder with refB64 and refAfterPad on in.
func checkB64(t *testing.T, in []byte) {
	t.Helper()
	want, wantErr := refB64(in)
	wantAfter := refAfterPad(in)
	for _, s := range b64Shapes {
		for _, chunk := range []int{1, 7, 32 << 10} {
			got, after, err := readB64(in, s.shape, chunk)
			if !bytes.Equal(got, want) || err != wantErr {
				t.Fatalf("%s, reads of %d: %q: got %q, %v; want %q, %v", s.name, chunk, in, got, err, want, wantErr)
			}
			if err == nil && after != wantAfter {
				t.Fatalf("%s, reads of %d: %q: %d alphabet characters after the pad, want %d", s.name, chunk, in, after, wantAfter)
			}
		}
	}
}

func TestB64Decoder(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"", "", nil},
		{"QUJD\r\nREVG\r\n", "ABCDEF", nil},
		{"QUJD\r\nREVG\r\n====\r\n", "ABCDEF", nil},
		{"QUJDREVG=\r\n", "ABCDEF", nil},
		{"QUJD REVG", "ABCDEF", nil},
		{"QUJD\r\n.\r\nREVG", "ABCDEF", nil},
		{"QUJ\x00D", "ABC", nil},
		{"QUJDRA==\r\n\r\n-- \r\nlist footer\r\n", "ABCD", nil},
		{"QUJDRA=", "ABCD", nil},
		{"QUJDREU=\r\nZm9v\r\n", "ABCDE", nil},
		{"=QUJD", "", nil},
		{"QUJD\r\nRE\r\n", "ABC", io.ErrUnexpectedEOF},                              // cut short
		{"QUJD\r\nREV", "ABC", io.ErrUnexpectedEOF},                                 // cut short
		{"QUJDR==", "ABC", io.ErrUnexpectedEOF},                                     // one character cannot be a quantum
		{"QUJDR", "ABC", io.ErrUnexpectedEOF},                                       //
		{"!!!!not base64 at all$$$$", mustB64("notbase64ata"), io.ErrUnexpectedEOF}, // 14 letters
	} {
		want, err := refB64([]byte(tc.in))
		if string(want) != tc.want || err != tc.err {
			t.Fatalf("reference on %q: %q, %v; want %q, %v", tc.in, want, err, tc.want, tc.err)
		}
		checkB64(t, []byte(tc.in))
	}
}

// Across the decoder's blocks (64 KiB of input): long input with noise, line ends and a
// footer, read in many shapes, decodes to the data.
func TestB64DecoderLarge(t *testing.T) {
	rnd := rand.New(rand.NewSource(7))
	for _, size := range []int{b64Block/4*3 - 1, b64Block / 4 * 3, b64Block, 300_001} {
		data := make([]byte, size)
		rnd.Read(data)
		enc := base64.StdEncoding.EncodeToString(data)
		var b bytes.Buffer
		for i := 0; i < len(enc); i++ {
			if rnd.Intn(50) == 0 {
				b.WriteString("\r\n .\x00"[rnd.Intn(5):])
			}
			b.WriteByte(enc[i])
		}
		b.WriteString("\r\n-- \r\nfooter text\r\n")
		if !strings.HasSuffix(enc, "=") {
			b.Truncate(b.Len() - len("\r\n-- \r\nfooter text\r\n")) // footer letters would be data
		}
		in := b.Bytes()
		checkB64(t, in)
		if got, _ := refB64(in); !bytes.Equal(got, data) {
			t.Fatalf("size %d: reference does not give the data", size)
		}
		if err := iotest.TestReader(newB64Decoder(bytes.NewReader(in)), data); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
	}
}

// An error of the input is returned as it is, after the complete quanta before it; when
// it comes after the padding (while the rest is discarded), after the last quantum.
func TestB64DecoderReadError(t *testing.T) {
	boom := errors.New("connection reset")
	for _, tc := range []struct{ in, want string }{
		{"QUJDREVG", "ABCDEF"},
		{"QUJDRE", "ABC"},
		{"QUJDRA==\r\n", "ABCD"},
		{"QUJDREU=", "ABCDE"},
	} {
		got, err := io.ReadAll(newB64Decoder(io.MultiReader(strings.NewReader(tc.in), iotest.ErrReader(boom))))
		if string(got) != tc.want || err != boom {
			t.Errorf("%q: got %q, %v; want %q, %v", tc.in, got, err, tc.want, boom)
		}
	}
}

// emptyReader returns nothing, and no error, for ever.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

// An input that returns nothing for ever does not hang the decoder, before or after "=".
func TestB64DecoderNoProgress(t *testing.T) {
	for _, in := range []string{"QUJD", "QUJDRA=="} {
		got, err := io.ReadAll(newB64Decoder(io.MultiReader(strings.NewReader(in), emptyReader{})))
		if !errors.Is(err, io.ErrNoProgress) || len(got) > 4 {
			t.Errorf("%q: got %q, %v; want io.ErrNoProgress", in, got, err)
		}
	}
}

// FuzzB64Decoder is a differential test: for any input, b64Decoder gives what the
// standard library decodes from the input's alphabet characters cut at the first "=",
// and counts the alphabet characters after that "=" (afterPad: possibly data lost).
func FuzzB64Decoder(f *testing.F) {
	for _, s := range []string{"", "QUJD\r\nREVG\r\n====", "QUJDRA==\r\n-- \r\nfooter", "QUJDR", "QUJD RE", "Zm9v=YmFy", "\x00.=!",
		"QUI=\r\nQUI=\r\n", "QUJD=\r\n \r\n=", "Q=UJD"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkB64(t, in)
	})
}

// A base64 text part is decoded once and still converted from its charset; an attached
// message sent as base64 is walked into.
func TestWalkPartsBase64CharsetAndMessage(t *testing.T) {
	inner := "Content-Type: text/plain\r\n\r\ninner body"
	raw := "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n" +
		"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString([]byte("Gr\xfc\xdfe")) + "\r\n--B\r\n" +
		"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: BASE64 \r\n\r\n" +
		base64.StdEncoding.EncodeToString([]byte(inner)) + "\r\n--B--\r\n"
	var got []string
	problems, err := WalkParts(strings.NewReader(raw), func(p *Part) error {
		b, err := io.ReadAll(p.Body)
		got = append(got, p.ContentType+":"+string(b))
		return err
	})
	if err != nil || len(problems) != 0 || len(got) != 2 || got[0] != "text/plain:Grüße" || got[1] != "text/plain:inner body" {
		t.Fatalf("parts %q, problems %v, err %v", got, problems, err)
	}
}
