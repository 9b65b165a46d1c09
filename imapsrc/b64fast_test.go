package imapsrc

import (
	"bytes"
	"encoding/base64"
	"math/rand"
	"testing"
)

// The fast path of b64Decoder (line ends dropped, the rest left to the standard decoder)
// agrees with the reference on line-broken base64 with every kind of disturbance: lines
// of any length, LF or CRLF or bare CR, stray characters, padding, spaces, and all of it
// across the decoder's blocks.
func TestB64DecoderFastPathAgrees(t *testing.T) {
	rnd := rand.New(rand.NewSource(11))
	noise := []string{"\r", "\n", " ", ".", "=", "==", "\x00", "\r\r\n", "-- \r\nfooter\r\n", "é"}
	for i := range 60 {
		data := make([]byte, rnd.Intn(3*b64Block/2))
		rnd.Read(data)
		enc := base64.StdEncoding.EncodeToString(data)
		if rnd.Intn(3) == 0 {
			enc = base64.RawStdEncoding.EncodeToString(data)
		}
		lineLen := []int{76, 72, 64, 57, 1 + rnd.Intn(200)}[rnd.Intn(5)]
		eol := []string{"\r\n", "\n", "\r\n", "\r"}[rnd.Intn(4)]
		var b bytes.Buffer
		for len(enc) > 0 {
			n := min(lineLen, len(enc))
			b.WriteString(enc[:n])
			b.WriteString(eol)
			enc = enc[n:]
		}
		in := b.Bytes()
		if i%2 == 1 && len(in) > 0 { // a few disturbances at random places
			for range 1 + rnd.Intn(3) {
				at := rnd.Intn(len(in))
				in = append(in[:at], append([]byte(noise[rnd.Intn(len(noise))]), in[at:]...)...)
			}
		}
		checkB64(t, in)
	}
}
