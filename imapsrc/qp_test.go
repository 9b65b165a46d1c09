package imapsrc

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"mime/quotedprintable"
	"strings"
	"testing"
	"testing/iotest"
)

// refQP is the reference for qpDecoder: how WalkParts decoded quoted-printable before it,
// the standard library's decoder over a qpLineBreaker, read to its first error.
func refQP(r io.Reader) ([]byte, error) {
	out, err := io.ReadAll(quotedprintable.NewReader(&qpLineBreaker{r: r}))
	return out, err
}

// readQP decodes with qpDecoder, reading its output in pieces of size chunk.
func readQP(r io.Reader, chunk int) ([]byte, error) {
	d := newQPDecoder(r)
	var out []byte
	p := make([]byte, chunk)
	for {
		n, err := d.Read(p)
		out = append(out, p[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// errAfter returns its data, then err on every read (a connection that broke).
type errAfter struct {
	r   io.Reader
	err error
}

func (e *errAfter) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF {
		return n, e.err
	}
	return n, err
}

var errQPTest = errors.New("connection reset (test)")

var qpShapes = []struct {
	name  string
	shape func([]byte) io.Reader
}{
	{"whole", func(b []byte) io.Reader { return bytes.NewReader(b) }},
	{"one byte", func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }},
	{"half", func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }},
	{"data+EOF", func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }},
	{"then an error", func(b []byte) io.Reader { return &errAfter{r: bytes.NewReader(b), err: errQPTest} }},
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// checkQP compares qpDecoder with refQP on in: the same bytes, the same error text.
func checkQP(t *testing.T, in []byte) {
	t.Helper()
	for _, s := range qpShapes {
		want, wantErr := refQP(s.shape(in))
		for _, chunk := range []int{1, 7, 32 << 10} {
			got, err := readQP(s.shape(in), chunk)
			if !bytes.Equal(got, want) || errText(err) != errText(wantErr) {
				show := in
				if len(show) > 300 {
					show = show[:300]
				}
				t.Fatalf("%s, reads of %d, %d bytes of input %q…:\ngot  %d bytes, %v\nwant %d bytes, %v\nfirst difference at %d",
					s.name, chunk, len(in), show, len(got), err, len(want), wantErr, firstDiff(got, want))
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestQPDecoder(t *testing.T) {
	long := strings.Repeat("x", 1500)
	for _, in := range []string{
		"", "abc", "abc\r\n", "a=3Db=3d\r\n", "soft=\r\nbreak=\nhere\n", "trailing  \t\r\nspaces \r\n",
		"space before soft =\r\n", "=\r\n", "=", "a=", "a=  ", "a= x", "a==\r\n", "x==4\r\n", "=4\r\n", "=4", "a=\rb\r\n",
		"abc=\r\r\n", "bad \x01 byte\r\n", "del \x7f\r\n", "umlaut =C3=BC and raw \xc3\xbc\r\n", "=G1 literal\r\n", "=1G\r\n",
		"ends in =\r", "cr\rin the middle\r\n", "lf only\nlines\n", "\r\n\r\n", "=\r\n=\r\n=", "a=\r\n",
		"=C3", "=C", "==", "= \r\n", "=\t\r\n", "a= \t\r\n",
		long + "\r\n", long + "=\r\n", long[:998] + "=3D" + long + "\r\n", long[:999] + "=3D" + long,
		long[:1000] + "\r\r\r\rx" + long, long[:995] + "  \r\n", long[:1005] + "   \r\n", long[:1000] + "    " + "\r\n",
		strings.Repeat("=", 5000) + "\r\n", strings.Repeat("=", 4100), strings.Repeat("\r", 4200) + "\n",
		strings.Repeat("=", 4094) + "ab", strings.Repeat("a", 4094) + "=3D" + strings.Repeat("a", 10),
		strings.Repeat("==a", 1500) + "\r\n" + long, strings.Repeat("x", 4095) + "\n", strings.Repeat("x", 4096) + "\n",
		strings.Repeat("x", 4095), strings.Repeat("x", 4096), strings.Repeat("x", 1000) + "=",
	} {
		checkQP(t, []byte(in))
	}
}

// qpNoise returns random text made of what is hard for a quoted-printable decoder: runs
// of "=", hex digits, white space, CR and LF in odd places, control bytes, long lines.
func qpNoise(r *rand.Rand) []byte {
	alphabet := []byte("ab=3D=\r\n \t\x80\xc3=0=F\x01=a")
	var b []byte
	for range 1 + r.Intn(6) {
		n := r.Intn(200)
		if r.Intn(4) == 0 {
			n = 900 + r.Intn(4000)
		}
		for range n {
			switch r.Intn(10) {
			case 0, 1:
				b = append(b, alphabet[r.Intn(len(alphabet))])
			default:
				b = append(b, 'a'+byte(r.Intn(26)))
			}
		}
		switch r.Intn(4) {
		case 0:
			b = append(b, '\n')
		case 1, 2:
			b = append(b, "\r\n"...)
		}
	}
	return b
}

// TestQPDecoderNoise runs the differential check over random hard inputs, so that plain
// `go test` covers long lines and odd bytes without the fuzzer.
func TestQPDecoderNoise(t *testing.T) {
	r := rand.New(rand.NewSource(18))
	n := 600
	if testing.Short() {
		n = 100
	}
	for range n {
		checkQP(t, qpNoise(r))
	}
}

// TestQPDecoderLarge: what the standard encoder writes (several MB: many blocks) comes
// back whole, and equal to the reference.
func TestQPDecoderLarge(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	var want bytes.Buffer
	for want.Len() < 3<<20 {
		for range r.Intn(300) {
			want.WriteByte(" abcdefghij=\t\xc3\xa4\xe2\x82\xac0123456789;,."[r.Intn(28)])
		}
		want.WriteString("\r\n")
	}
	var enc bytes.Buffer
	w := quotedprintable.NewWriter(&enc)
	w.Write(want.Bytes())
	w.Close()
	got, err := readQP(bytes.NewReader(enc.Bytes()), 256<<10)
	if err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("got %d bytes, %v; want %d bytes (first difference at %d)", len(got), err, want.Len(), firstDiff(got, want.Bytes()))
	}
	checkQP(t, enc.Bytes())
}

func TestQPDecoderNoProgress(t *testing.T) {
	got, err := readQP(emptyReader{}, 10)
	if !errors.Is(err, io.ErrNoProgress) || len(got) != 0 {
		t.Fatalf("got %q, %v; want io.ErrNoProgress", got, err)
	}
}

// FuzzQPDecoder is a differential test: for any input, and however it is split into
// reads, qpDecoder gives the bytes and the error that the standard library's decoder
// gives over a qpLineBreaker (how quoted-printable was decoded before).
func FuzzQPDecoder(f *testing.F) {
	for _, s := range []string{"", "a=3Db\r\n", "soft=\r\nx", "x  \r\n", "=\r\n=", "==4\r\n", "a=\rb", "\x01",
		strings.Repeat("y", 1003) + "==" + strings.Repeat("z", 10), strings.Repeat("=", 4100)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkQP(t, in)
	})
}

// A quoted-printable text part is decoded once and still converted from its charset; an
// attachment keeps its bytes; a broken one is a PartError naming quoted-printable.
func TestWalkPartsQuotedPrintable(t *testing.T) {
	raw := "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n" +
		"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: Quoted-Printable \r\n\r\n" +
		"Gr=FC=DFe, soft=\r\n break\r\n--B\r\n" +
		"Content-Type: text/csv; charset=utf-8; name=\"a.csv\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"M=C3=BCller;1=3D1  \r\nzwei\r\n--B\r\n" +
		"Content-Type: text/plain; name=\"bad.txt\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		"ok \x01 not\r\n--B--\r\n"
	var got []string
	problems, err := WalkParts(strings.NewReader(raw), func(p *Part) error {
		b, err := io.ReadAll(p.Body)
		got = append(got, p.ContentType+":"+string(b))
		return err
	})
	if err != nil || len(got) != 3 || got[0] != "text/plain:Grüße, soft break" || got[1] != "text/csv:Müller;1=1\r\nzwei" || got[2] != "text/plain:ok " {
		t.Fatalf("parts %q, err %v", got, err)
	}
	var pe *PartError
	if len(problems) != 1 || !errors.As(problems[0], &pe) || pe.Index != 3 || !strings.Contains(pe.Error(), "quoted-printable") {
		t.Fatalf("problems %v", problems)
	}
}

// qpLineBreaker inserts a soft line break ("=\r\n", which decodes to nothing) into
// quoted-printable lines longer than qpMaxLine, never inside an "=XX" escape, so that such
// parts decode instead of failing. It is how WalkParts read quoted-printable before
// qpDecoder (in front of the standard library's decoder), kept here as the reference
// qpDecoder must agree with (refQP).
type qpLineBreaker struct {
	r       io.Reader
	run     int    // bytes since the last line end
	lastEq  int    // bytes since the last '=' (3 or more: not inside an escape)
	pending []byte // output not yet returned
	buf     [4096]byte
}

func (q *qpLineBreaker) Read(p []byte) (int, error) {
	for len(q.pending) == 0 {
		n, err := q.r.Read(q.buf[:])
		if n > 0 {
			q.pending = q.breakLines(q.buf[:n])
		}
		if err != nil {
			if len(q.pending) > 0 {
				break
			}
			return 0, err
		}
		if n == 0 {
			return 0, nil
		}
	}
	n := copy(p, q.pending)
	q.pending = q.pending[n:]
	return n, nil
}

func (q *qpLineBreaker) breakLines(in []byte) []byte {
	out := make([]byte, 0, len(in)+len(in)/qpMaxLine*3+3)
	for _, c := range in {
		if q.run >= qpMaxLine && q.lastEq >= 3 && c != '\r' && c != '\n' {
			out = append(out, "=\r\n"...)
			q.run = 0
		}
		out = append(out, c)
		q.lastEq++
		switch c {
		case '\n':
			q.run = 0
		case '=':
			q.lastEq = 1
			q.run++
		default:
			q.run++
		}
	}
	return out
}
