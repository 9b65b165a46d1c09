package imapsrc

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"sync"
)

// qpDecoder decodes quoted-printable content in one pass, block by block. It gives
// exactly what the standard library's decoder gives over a qpLineBreaker (how WalkParts
// decoded quoted-printable before): quotedprintable.NewReader(&qpLineBreaker{r: r}) —
// the same bytes and the same error at the same place, whatever the input (FuzzQPDecoder
// checks it). That pair reads a line at a time through two byte-by-byte filters; this
// finds line ends with bytes.IndexByte and copies runs of plain characters at once.
//
// What the pair does, and so what this does:
//
//   - qpLineBreaker cuts a line longer than qpMaxLine with a soft line break ("=\r\n")
//     before the first character at or after qpMaxLine that is not CR or LF and not one
//     of the two characters after an "=" (so never inside an escape);
//   - the standard decoder then takes the text line by line (a line is at most 4096
//     bytes, its bufio.Reader's buffer: a longer one, which the cuts above cannot always
//     prevent, fails with bufio.ErrBufferFull); it drops white space at a line's end,
//     keeps the line end ("\r\n" or "\n") unless the line ends in "=" (a soft line break),
//     decodes "=XX" (upper or lower case hex), takes an "=" not followed by two hex digits
//     as itself (unless a CR or LF follows it: an error), passes bytes from 0x80 up, tab,
//     CR and LF, and fails on other control characters; an "=" at the very end of the
//     input after some text is accepted.
type qpDecoder struct {
	r       io.Reader
	buf     *qpBuffers // nil before the first read and after the end
	start   int        // buf.in[start:end] is input not yet decoded
	end     int
	out     []byte // decoded bytes not yet returned (in buf.out)
	empty   int    // reads in a row that returned nothing
	readErr error  // the input's error (io.EOF at its end)
	final   error  // returned once out is empty (io.EOF when all went well)
}

// qpStdLine is the longest line the standard library's decoder reads (its bufio.Reader's
// default size).
const qpStdLine = 4096

// qpBlock is how much input qpDecoder reads at once.
const qpBlock = 64 << 10

// qpBuffers are one decoder's buffers, pooled like b64Buffers.
type qpBuffers struct {
	in  [qpBlock + 2*qpStdLine]byte // undecoded rest of a line carried over, then new input
	out [qpBlock + 2*qpStdLine]byte // decoded bytes: never more than the input
}

var qpPool = sync.Pool{New: func() any { return new(qpBuffers) }}

func newQPDecoder(r io.Reader) *qpDecoder { return &qpDecoder{r: r} }

// qpPlain marks the bytes the standard decoder passes through as they are, in the middle
// of a line: printable ASCII but "=", tab, CR, LF and everything from 0x80 up.
var qpPlain = func() (t [256]bool) {
	for c := range 256 {
		t[c] = (c >= ' ' && c <= '~' && c != '=') || c == '\t' || c == '\r' || c == '\n' || c >= 0x80
	}
	return t
}()

// qpHex is the value of a hex digit (upper or lower case), 0xff for other bytes.
var qpHex = func() (t [256]byte) {
	for c := range 256 {
		switch {
		case c >= '0' && c <= '9':
			t[c] = byte(c - '0')
		case c >= 'A' && c <= 'F':
			t[c] = byte(c - 'A' + 10)
		case c >= 'a' && c <= 'f':
			t[c] = byte(c - 'a' + 10)
		default:
			t[c] = 0xff
		}
	}
	return t
}()

func (d *qpDecoder) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(d.out) == 0 {
		if d.final != nil {
			d.release()
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

// fill reads input and decodes what can be decoded of it into d.out; at the end of the
// input, or at an error, it sets d.final.
func (d *qpDecoder) fill() {
	if d.buf == nil {
		d.buf = qpPool.Get().(*qpBuffers)
	}
	if d.readErr == nil {
		// Keep the undecoded rest (at most one line of qpStdLine) at the front.
		n := copy(d.buf.in[:], d.buf.in[d.start:d.end])
		d.start, d.end = 0, n
		m, err := d.r.Read(d.buf.in[n : n+qpBlock])
		d.end += m
		d.readErr = err
		if m > 0 || err != nil {
			d.empty = 0
		} else if d.empty++; d.empty >= b64MaxEmptyReads {
			d.readErr = io.ErrNoProgress
		}
	}
	out, err := d.decode(d.buf.out[:0])
	d.out = out
	if err != nil {
		d.final = err
	}
}

// decode decodes the lines of buf.in[start:end] that can be decided now into out: at the
// input's end (or error) all of them, else those followed by enough input to know where
// the standard decoder's line ends. It returns the error that ends the content, if any.
func (d *qpDecoder) decode(out []byte) ([]byte, error) {
	in := d.buf.in[:d.end]
	atEnd := d.readErr != nil
	for d.start < d.end {
		s := d.start
		rest := in[s:]
		e := bytes.IndexByte(rest, '\n')
		if e >= 0 && e <= qpMaxLine {
			// The usual line: short enough that qpLineBreaker leaves it alone.
			var err error
			out, err = qpLine(out, rest[:e+1], nil)
			d.start = s + e + 1
			if err != nil {
				return out, err
			}
			continue
		}
		// A long line (or the last, without a line end). Where would qpLineBreaker cut
		// it? At the first k >= qpMaxLine whose byte is not CR or LF and is not within
		// two bytes after an "=".
		lineLen := len(rest) // bytes of the line known so far, up to its LF
		if e >= 0 {
			lineLen = e
		}
		if e < 0 && !atEnd && len(rest) < qpStdLine+2 {
			return out, nil // more input decides it
		}
		k := -1
		for i := qpMaxLine; i < lineLen && i < qpStdLine; i++ {
			if c := rest[i]; c != '\r' && c != '\n' && rest[i-1] != '=' && rest[i-2] != '=' {
				k = i
				break
			}
		}
		switch {
		case k >= 0 && k+3 <= qpStdLine:
			// A soft line break goes in before k: the text before it is a line of its own
			// that ends in "=" (nothing at its end is dropped).
			var err error
			out, err = qpDecodeLine(out, rest[:k], nil)
			d.start = s + k
			if err != nil {
				return out, err
			}
		case k < 0 && e >= 0 && e+1 <= qpStdLine:
			// A whole line with its LF that fits the standard decoder's buffer.
			var err error
			out, err = qpLine(out, rest[:e+1], nil)
			d.start = s + e + 1
			if err != nil {
				return out, err
			}
		case k < 0 && e < 0 && atEnd && len(rest) < qpStdLine:
			// The last line, without a line end.
			out, err := qpLine(out, rest, d.readErr)
			d.start = d.end
			if err == nil {
				err = d.readErr
			}
			return out, err
		default:
			// The standard decoder's buffer fills before the line ends: it decodes what
			// it holds (the text, and the start of a soft line break that went in at
			// k) and fails.
			frag := rest[:min(len(rest), qpStdLine)]
			if k >= 0 {
				frag = append(bytes.Clone(rest[:k]), "=\r\n"[:qpStdLine-k]...)
			}
			out, err := qpLine(out, frag, bufio.ErrBufferFull)
			if err == nil {
				err = bufio.ErrBufferFull
			}
			d.start = d.end
			return out, err
		}
	}
	if atEnd {
		return out, d.readErr
	}
	return out, nil
}

// qpLine decodes one line as the standard decoder reads it (ending in LF, or not when the
// input ended with rerr) and appends it to out. It returns an error when the line is
// broken, or when the input's error is to be replaced (text after a final "=").
func qpLine(out, line []byte, rerr error) ([]byte, error) {
	hasLF := len(line) > 0 && line[len(line)-1] == '\n'
	hasCR := hasLF && len(line) > 1 && line[len(line)-2] == '\r'
	t := len(line)
	for t > 0 && (line[t-1] == ' ' || line[t-1] == '\t' || line[t-1] == '\r' || line[t-1] == '\n') {
		t--
	}
	if t > 0 && line[t-1] == '=' {
		// A soft line break: only white space and the line end may follow the "=".
		var lineErr error
		rs := bytes.TrimLeft(line[t:], " \t")
		t--
		if !bytes.HasPrefix(rs, []byte("\n")) && !bytes.HasPrefix(rs, []byte("\r\n")) && !(len(rs) == 0 && t > 0 && rerr == io.EOF) {
			lineErr = fmt.Errorf("quotedprintable: invalid bytes after =: %q", rs) // i18n:keep (mime/quotedprintable's words: this decoder stands in for it)
		}
		out, err := qpDecodeLine(out, line[:t], nil)
		if err != nil {
			return out, err
		}
		return out, lineErr
	}
	switch {
	case !hasLF:
		return qpDecodeLine(out, line[:t], nil)
	case hasCR:
		return qpDecodeLine(out, line[:t], crlf)
	default:
		return qpDecodeLine(out, line[:t], crlf[1:])
	}
}

var crlf = []byte("\r\n")

// qpDecodeLine decodes text followed by the line end tail ("\r\n", "\n" or nothing),
// the standard decoder's line as it decodes it (white space at the end dropped, the line
// end put back), and appends it to out. An "=" near the end of text looks into tail.
func qpDecodeLine(out, text, tail []byte) ([]byte, error) {
	i := 0
	for i < len(text) {
		if i+8 <= len(text) && cap(out)-len(out) >= 8 {
			// 8 bytes at once: copied as they are, up to the first that needs a look.
			x := binary.LittleEndian.Uint64(text[i:])
			n := len(out)
			binary.LittleEndian.PutUint64(out[n:n+8], x)
			m := qpSpecial(x)
			if m == 0 {
				out = out[:n+8]
				i += 8
				continue
			}
			k := bits.TrailingZeros64(m) >> 3
			out = out[:n+k]
			i += k
		}
		if qpPlain[text[i]] { // near the end, or a tab or CR (control characters, plain)
			out = append(out, text[i])
			i++
			continue
		}
		if c := text[i]; c != '=' {
			return out, fmt.Errorf("quotedprintable: invalid unescaped byte 0x%02x in body", c) // i18n:keep (mime/quotedprintable's words: this decoder stands in for it)
		}
		if i+2 < len(text) {
			if hi, lo := qpHex[text[i+1]], qpHex[text[i+2]]; hi != 0xff && lo != 0xff {
				out = append(out, hi<<4|lo)
				i += 3
				continue
			}
			if c := text[i+1]; c == '\r' || c == '\n' {
				return out, fmt.Errorf("quotedprintable: invalid hex byte 0x%02x", c) // i18n:keep (mime/quotedprintable's words: this decoder stands in for it)
			}
			out = append(out, '=') // not an escape: the "=" itself
			i++
			continue
		}
		// An "=" among the last two bytes of text: the line end follows.
		var next [2]byte
		n := copy(next[:], text[i+1:])
		n += copy(next[n:], tail)
		if n == 2 {
			if hi, lo := qpHex[next[0]], qpHex[next[1]]; hi != 0xff && lo != 0xff {
				out = append(out, hi<<4|lo)
				i += 3
				continue
			}
		}
		// Not an escape: a literal "=", unless nothing or a line end follows it.
		if n >= 1 && next[0] != '\r' && next[0] != '\n' {
			out = append(out, '=')
			i++
			continue
		}
		if n < 2 {
			return out, io.ErrUnexpectedEOF
		}
		return out, fmt.Errorf("quotedprintable: invalid hex byte 0x%02x", next[0]) // i18n:keep (mime/quotedprintable's words: this decoder stands in for it)
	}
	return append(out, tail...), nil
}

// qpSpecial flags (in the high bit of the byte) the bytes of x, 8 bytes read little-
// endian, that are "=", control characters (tab and CR too, which are plain: the caller
// sorts them out) or DEL. The lowest flag is exact (what is above it may not be).
func qpSpecial(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	eq := x ^ ('=' * ones)
	del := x ^ (0x7f * ones)
	return ((eq-ones)&^eq | (del-ones)&^del | (x-' '*ones)&^x) & highs
}

// release returns the buffers to the pool once nothing refers to them.
func (d *qpDecoder) release() {
	if d.buf != nil && len(d.out) == 0 {
		qpPool.Put(d.buf)
		d.buf = nil
	}
}
