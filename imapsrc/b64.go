package imapsrc

import (
	"bytes"
	"encoding/base64"
	"io"
	"sync"
)

// b64Block is how much base64 text b64Decoder reads and decodes at once.
const b64Block = 64 << 10

// b64Alphabet marks the bytes of the base64 alphabet (RFC 2045 section 6.8, table 1).
var b64Alphabet = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") {
		t[c] = true
	}
	return t
}()

// b64Buffers are one decoder's buffers; they are pooled, so that a message with many
// small base64 parts does not allocate them again for each part.
type b64Buffers struct {
	in  [b64Block + 4]byte     // a partial quantum carried over, then the text read
	out [b64Block/4*3 + 3]byte // decoded bytes
}

var b64Pool = sync.Pool{New: func() any { return new(b64Buffers) }}

// b64Decoder decodes base64 content in one pass, as RFC 2045 section 6.8 wants it read:
// characters outside the base64 alphabet (line ends, spaces, stray dots, NULs) are
// ignored, and the first "=" ends the data, so that padding given twice or text after the
// end (a mailing list footer, a signature) does not fail an attachment that is complete.
// The rest of the input after "=" is read and discarded, so the part ends where the MIME
// structure says; the characters of the alphabet in it are counted (afterPad), because
// they may be data lost (base64 blocks run together, or a pad in the middle of the
// data): WalkParts reports such a part as a problem (PartError.DataLost). Line ends,
// spaces and more "=" after the pad lose nothing and are not counted.
//
// Data that is really cut short fails with io.ErrUnexpectedEOF after the complete
// quanta: a last quantum of one character, or of two or three characters without
// padding at the end of the input. A read error of the input is returned as it is.
type b64Decoder struct {
	r       io.Reader
	buf     *b64Buffers // nil before the first read and after the end
	carry   int         // alphabet characters at the start of buf.in not yet decoded (0-3)
	out     []byte      // decoded bytes not yet returned (in buf.out)
	empty   int         // reads in a row that returned nothing
	readErr error       // the input's error (io.EOF at its end)
	final   error       // returned once out is empty (io.EOF when all went well)
	// afterPad counts the characters of the alphabet after the first "=", which were
	// not decoded; it is complete once Read has returned io.EOF.
	afterPad int64
}

func newB64Decoder(r io.Reader) *b64Decoder { return &b64Decoder{r: r} }

// b64MaxEmptyReads is how many reads returning nothing (and no error) in a row the
// decoder takes from its input before it gives up with io.ErrNoProgress.
const b64MaxEmptyReads = 100

func (d *b64Decoder) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(d.out) == 0 {
		if d.final != nil {
			return 0, d.final
		}
		d.fill()
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	if len(d.out) == 0 && d.final != nil {
		d.release()
	}
	return n, nil
}

// fill reads one block of input and decodes its complete quanta into d.out; at the end
// of the data it also decodes the last quantum and sets d.final.
func (d *b64Decoder) fill() {
	if d.buf == nil {
		d.buf = b64Pool.Get().(*b64Buffers)
	}
	in := d.buf.in[:]
	m, err := d.r.Read(in[d.carry:])
	d.noteRead(m, err)
	// Fast path, for the usual lines of base64 text: drop the line ends (in place) and let
	// the decoder check the rest; anything else (padding, stray characters) takes the
	// exact path below over the same bytes, which gives the same result.
	w := d.carry + dropLineEnds(in[d.carry:d.carry+m])
	end := w
	k := w / 4 * 4
	// The decoder skips CR and LF itself: none may be left, or the quanta would not be
	// whole; the carried characters must be of the alphabet.
	if bytes.IndexByte(in[:w], '=') < 0 && bytes.IndexByte(in[:w], '\r') < 0 && allAlphabet(in[k:w]) {
		if n, err := base64.StdEncoding.Decode(d.buf.out[:], in[:k]); err == nil {
			d.out = d.buf.out[:n]
			d.carry = copy(in, in[k:w])
			if d.readErr != nil {
				d.finish(false)
			}
			return
		}
	}
	w, eq := d.carry, false
	// Keep the alphabet characters, in place: w never passes the byte being read.
	for i, c := range in[d.carry:end] {
		if b64Alphabet[c] {
			in[w] = c
			w++
		} else if c == '=' {
			eq = true
			d.afterPad += countAlphabet(in[d.carry+i+1 : end])
			break
		}
	}
	k = w / 4 * 4
	// Only alphabet characters, whole quanta: this cannot fail.
	n, _ := base64.StdEncoding.Decode(d.buf.out[:], in[:k])
	d.out = d.buf.out[:n]
	d.carry = copy(in, in[k:w])
	if eq || d.readErr != nil {
		d.finish(eq)
	}
}

// dropLineEnds removes the line ends (LF, and CR before LF) of p in place and returns
// how many bytes are left at its start.
func dropLineEnds(p []byte) int {
	w, src := 0, p
	for len(src) > 0 {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			w += copy(p[w:], src)
			break
		}
		j := i
		if j > 0 && src[j-1] == '\r' {
			j--
		}
		w += copy(p[w:], src[:j])
		src = src[i+1:]
	}
	return w
}

func allAlphabet(p []byte) bool {
	for _, c := range p {
		if !b64Alphabet[c] {
			return false
		}
	}
	return true
}

// countAlphabet counts the characters of the base64 alphabet in p.
func countAlphabet(p []byte) int64 {
	var n int64
	for _, c := range p {
		if b64Alphabet[c] {
			n++
		}
	}
	return n
}

// noteRead records an input read's error, and io.ErrNoProgress when the input keeps
// returning nothing.
func (d *b64Decoder) noteRead(m int, err error) {
	d.readErr = err
	if m > 0 || err != nil {
		d.empty = 0
	} else if d.empty++; d.empty >= b64MaxEmptyReads {
		d.readErr = io.ErrNoProgress
	}
}

// finish ends the data ("=" seen when eq, else the input's end or error): it discards
// the rest of the input, decodes the last quantum and sets d.final.
func (d *b64Decoder) finish(eq bool) {
	for d.readErr == nil {
		n, err := d.r.Read(d.buf.in[4:])
		d.afterPad += countAlphabet(d.buf.in[4 : 4+n])
		d.noteRead(n, err)
	}
	if eq && d.carry > 1 {
		// The last quantum, which had its padding: 2 or 3 characters, 1 or 2 bytes.
		n, _ := base64.RawStdEncoding.Decode(d.buf.out[len(d.out):], d.buf.in[:d.carry])
		d.out = d.buf.out[:len(d.out)+n]
	}
	switch {
	case d.readErr != io.EOF:
		d.final = d.readErr
	case d.carry == 1, d.carry > 1 && !eq:
		d.final = io.ErrUnexpectedEOF
	default:
		d.final = io.EOF
	}
	d.carry = 0
	if len(d.out) == 0 {
		d.release()
	}
}

// release returns the buffers to the pool once nothing refers to them.
func (d *b64Decoder) release() {
	if d.buf != nil {
		b64Pool.Put(d.buf)
		d.buf = nil
	}
}
