package imapsrc

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/quotedprintable"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// A server that streams without ever completing its greeting (a wrong port, a hostile
// server) is cut off after a small amount, instead of being buffered in memory.
func TestDialGreetingIsBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sent := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			sent <- 0
			return
		}
		defer c.Close()
		chunk := bytes.Repeat([]byte("A"), 64<<10)
		var n int64
		if _, err := c.Write([]byte("* OK ")); err == nil {
			for n < 200<<20 {
				m, err := c.Write(chunk)
				n += int64(m)
				if err != nil {
					break
				}
			}
		}
		sent <- n
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	var p int
	fmt.Sscan(port, &p)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = Dial(ctx, Config{Host: host, Port: p, TLS: "none", Auth: "password", Username: "u", Password: "p",
		Folder: "INBOX", Timeout: 10 * time.Second, Logger: testLogger(t)})
	var ie *Error
	if !errors.As(err, &ie) || ie.Kind != KindConnect || !strings.Contains(err.Error(), errGreetingTooLong.Error()) {
		t.Fatalf("err = %v, want a connect error naming the over-long greeting", err)
	}
	select {
	case n := <-sent:
		if n >= 200<<20 {
			t.Errorf("the client read all %d bytes", n)
		}
	case <-ctx.Done():
		t.Fatal("server still sending")
	}
}

// Quoted-printable lines longer than the standard decoder's 4 KiB buffer (whole HTML
// documents on one line, as some mailers send) decode instead of failing the part.
func TestWalkPartsLongQuotedPrintableLines(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 999, 1000, 1001, 4095, 4096, 4097, 100_000} {
		want := make([]byte, size)
		for i := range want {
			// mostly text, with bytes that need =XX escapes and spaces
			switch r := rng.IntN(10); {
			case r < 6:
				want[i] = byte('a' + rng.IntN(26))
			case r < 8:
				want[i] = ' '
			default:
				want[i] = byte(rng.IntN(256))
			}
		}
		var enc bytes.Buffer
		qw := quotedprintable.NewWriter(&enc)
		qw.Binary = true
		qw.Write(want)
		qw.Close()
		// Remove the soft line breaks: one line of any length.
		oneLine := strings.ReplaceAll(enc.String(), "=\r\n", "")
		raw := "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\n" +
			"Content-Type: application/octet-stream; name=a.bin\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
			oneLine + "\r\n--B\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: Quoted-Printable\r\n\r\n" +
			"<p>" + strings.Repeat("caf=C3=A9 ", 2000) + "</p>\r\n--B--\r\n"
		var got [][]byte
		problems, err := WalkParts(strings.NewReader(raw), func(p *Part) error {
			b, err := io.ReadAll(p.Body)
			got = append(got, b)
			return err
		})
		if err != nil || len(problems) != 0 || len(got) != 2 {
			t.Fatalf("size %d: %d parts, problems %v, err %v", size, len(got), problems, err)
		}
		if !bytes.Equal(got[0], want) {
			t.Errorf("size %d: attachment differs (got %d bytes)", size, len(got[0]))
		}
		if html := "<p>" + strings.Repeat("café ", 2000) + "</p>"; string(got[1]) != html {
			t.Errorf("size %d: html differs (got %d bytes)", size, len(got[1]))
		}
	}
}

// Many RFC 2231 sections in one header (a hostile header up to the 1 MiB limit) cost
// little time: sections given twice are dropped, and the rest is sorted in n log n.
func TestDecode2231ManyPieces(t *testing.T) {
	var pieces []string
	for i := range 55_000 {
		pieces = append(pieces, fmt.Sprintf("filename*%d=%c", 999-(i%1000), 'a'+i%26))
	}
	start := time.Now()
	v, ok := decode2231("filename", pieces)
	if el := time.Since(start); el > 500*time.Millisecond {
		t.Errorf("decode2231 of %d pieces took %v", len(pieces), el)
	}
	if !ok || len(v) != 1000 {
		t.Fatalf("got %d bytes, ok %v; want 1000 (one per section)", len(v), ok)
	}
	// Sections in order, the first of a duplicate wins.
	if v, _ := decode2231("name", []string{"name*1=b", "name*0*=utf-8''a%2F", "name*1=x", "name*2=c"}); v != "a/bc" {
		t.Errorf("got %q, want a/bc", v)
	}
}

// Hostile names come out decoded but unchanged (making them safe is the mover's job), and
// hostile structures never lose the good parts around them.
func TestWalkPartsHostileCorpus(t *testing.T) {
	type want struct {
		names    []string // Filename of each part handed out, in order
		problems int      // at least this many problems
	}
	cases := map[string]want{
		"20-hostile-names.eml": {names: []string{"../../etc/passwd", "a\x00b.pdf", "invoice\u202efdp.exe",
			strings.Repeat("n", 300) + ".pdf", "résumé.pdf", "Факту.пdf", "日本語.pdf", "中文.pdf",
			"=?x-unknown?q?abc?=", "a/../b.pdf", "..\\..\\x.pdf", "한국.pdf", ""}},
		"21-unclosed-boundary.eml":     {names: []string{"", "a.pdf"}, problems: 1},
		"22-garbage-base64.eml":        {names: []string{"bad.pdf", "good.pdf", ""}, problems: 1},
		"23-zero-length-parts.eml":     {names: []string{"empty.pdf", "", "ok.txt"}},
		"24-headers-only.eml":          {names: []string{""}},
		"25-empty.eml":                 {names: []string{""}},
		"26-rfc822-loop.eml":           {names: []string{"inner.txt"}},
		"27-long-qp-line.eml":          {names: []string{"", "report.csv"}},
		"28-boundary-never-opened.eml": {problems: 1},
		"29-rfc822-qp-long-line.eml":   {names: []string{"", "inner.txt"}},
	}
	for file, w := range cases {
		t.Run(file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata/mime", file))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			problems, err := WalkParts(bytes.NewReader(raw), func(p *Part) error {
				names = append(names, p.Filename)
				_, err := io.Copy(io.Discard, p.Body)
				return err
			})
			if err != nil {
				t.Fatalf("err %v", err)
			}
			if fmt.Sprintf("%q", names) != fmt.Sprintf("%q", w.names) {
				t.Errorf("names\n got %q\nwant %q", names, w.names)
			}
			if len(problems) < w.problems {
				t.Errorf("problems %v, want at least %d", problems, w.problems)
			}
			if w.problems == 0 && len(problems) > 0 {
				t.Errorf("unexpected problems %v", problems)
			}
		})
	}
}

// A part's huge header after a good part is refused without losing the good part.
func TestWalkPartsHugeHeaderInLaterPart(t *testing.T) {
	raw := "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\ngood\r\n" +
		"--B\r\nContent-Type: text/plain\r\nX-Big: " + strings.Repeat("x", 3<<20) + "\r\n\r\nbad\r\n--B--\r\n"
	var got []string
	problems, err := WalkParts(strings.NewReader(raw), func(p *Part) error {
		b, err := io.ReadAll(p.Body)
		got = append(got, string(b))
		return err
	})
	if err != nil || len(got) != 1 || got[0] != "good" || len(problems) != 1 {
		t.Fatalf("parts %q, problems %v, err %v", got, problems, err)
	}
}

// Text from a hostile server (escape sequences, other control characters, a flood of
// text) reaches the user cleaned and capped.
func TestServerTextIsCleaned(t *testing.T) {
	evil := "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n"
	port, _ := fakeServer(t, []step{{send: evil},
		{expect: "AUTHENTICATE PLAIN", send: "%TAG NO [AUTHENTICATIONFAILED] \x1b[2J\x1b]0;pwned\x07Bad \u2028" + strings.Repeat("x", 5000) + "\r\n"}})
	_, err := Dial(ctxT(t), Config{Host: "127.0.0.1", Port: port, TLS: tlsNone, Auth: authPassword, Username: "u",
		Password: "p", Folder: "INBOX", Timeout: 5 * time.Second, Logger: testLogger(t)})
	var ie *Error
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v", err)
	}
	for _, s := range []string{ie.Reason, ie.Advice} {
		if strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f || r == '\u2028' }) {
			t.Errorf("control characters in %q", s)
		}
		if len(s) > 1000 {
			t.Errorf("%d bytes of server text: %.80q…", len(s), s)
		}
	}
	if !strings.Contains(ie.Reason, "AUTHENTICATIONFAILED") {
		t.Errorf("reason %q", ie.Reason)
	}
}

// The greeting and STARTTLS refusals are shown cleaned too.
func TestStartTLSRefusalTextIsCleaned(t *testing.T) {
	port, _ := fakeServer(t, []step{{send: "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"},
		{expect: "STARTTLS", send: "%TAG BAD \x1b[31mno\x07 " + strings.Repeat("é", 300) + "\r\n"}})
	_, err := Dial(ctxT(t), Config{Host: "127.0.0.1", Port: port, TLS: tlsStartTLS, Auth: authPassword, Username: "u",
		Password: "p", Folder: "INBOX", Timeout: 5 * time.Second, Logger: testLogger(t)})
	if err == nil || !strings.Contains(err.Error(), "refused STARTTLS") {
		t.Fatalf("err = %v", err)
	}
	if s := err.Error(); strings.ContainsAny(s, "\x1b\x07") || !utf8.ValidString(s) {
		t.Errorf("unclean text %q", s)
	}
}

// The fields of a JSON error challenge are cleaned before they reach a message.
func TestSASLFailureFieldsAreCleaned(t *testing.T) {
	f := parseSASLFailure([]byte(`{"status":"401\u001b[2J","schemes":"Bearer","scope":"https://mail.google.com/\u0007` +
		strings.Repeat("x", 1000) + `"}`))
	s := f.String()
	if strings.ContainsAny(s, "\x1b\x07") || len(s) > 400 || !strings.Contains(s, "status 401") {
		t.Errorf("failure text %q", s)
	}
}

// Base64 as RFC 2045 section 6.8 wants it read: characters outside the alphabet are
// ignored and the first "=" ends the data. What is really cut short still fails, with a
// message that says so; base64 text after the "=" is not decoded, and the part is
// reported with DataLost (it may be data: blocks run together).
func TestWalkPartsLenientBase64(t *testing.T) {
	const ok, broken, lost = "", "broken", "lost"
	for _, tc := range []struct {
		body, want string
		problem    string
	}{
		{"QUJD\r\nREVG\r\n", "ABCDEF", ok},
		{"QUJD\r\nREVG\r\n====\r\n", "ABCDEF", ok},               // padding given twice
		{"QUJDREVG=\r\n", "ABCDEF", ok},                          // padding where none is due
		{"QUJD REVG\r\n", "ABCDEF", ok},                          // a space inside
		{"QUJD\r\nREVG\r\n.\r\n", "ABCDEF", ok},                  // a stray dot line
		{"QUJ\x00D\r\n", "ABC", ok},                              // a NUL
		{"QUJDRA==\r\n \r\n.\r\n==\r\n", "ABCD", ok},             // only spaces, dots and pads after the end
		{"QUJDRA==\r\n\r\n-- \r\nlist footer\r\n", "ABCD", lost}, // text after the end: may be data
		{"QUJDREU=\r\nZm9v\r\n", "ABCDE", lost},                  // data after "=" is not decoded
		{"QUJD\r\nRE\r\n", "ABC", broken},                        // cut short
		{"QUJD\r\nREVG\r\n\r\n-- \r\nsig\r\n", "ABCDEF", broken}, // footer letters look like data
	} {
		raw := "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: application/pdf; name=a.pdf\r\n" +
			"Content-Transfer-Encoding: base64\r\n\r\n" + tc.body + "\r\n--B\r\nContent-Type: text/plain\r\n\r\nnext\r\n--B--\r\n"
		var got []string
		problems, err := WalkParts(strings.NewReader(raw), func(p *Part) error {
			b, err := io.ReadAll(p.Body)
			got = append(got, string(b))
			return err
		})
		if err != nil || len(got) != 2 || got[1] != "next" {
			t.Fatalf("%q: parts %q, err %v", tc.body, got, err)
		}
		if !strings.HasPrefix(got[0], tc.want) || (tc.problem != broken && got[0] != tc.want) {
			t.Errorf("%q: got %q, want %q", tc.body, got[0], tc.want)
		}
		if (tc.problem != ok) != (len(problems) > 0) {
			t.Fatalf("%q: problems %v, want %q", tc.body, problems, tc.problem)
		}
		var pe *PartError
		switch {
		case tc.problem == ok:
		case !errors.As(problems[0], &pe) || pe.Index != 1 || pe.Filename != "a.pdf" || pe.Recovered:
			t.Errorf("%q: problem %v, want one of part 1, not recovered", tc.body, problems[0])
		case tc.problem == broken && (pe.DataLost || !strings.Contains(pe.Error(), "broken base64 content")):
			t.Errorf("%q: problem %v (data lost %v)", tc.body, pe, pe.DataLost)
		case tc.problem == lost && (!pe.DataLost || !strings.Contains(pe.Error(), "not decoded")):
			t.Errorf("%q: problem %v (data lost %v)", tc.body, pe, pe.DataLost)
		}
	}
}

// FuzzBase64Filter: a valid encoding with noise outside the alphabet mixed in still
// decodes to the data; text after the padding is not decoded, and the part is reported
// with DataLost exactly when that text holds characters of the alphabet.
func FuzzBase64Filter(f *testing.F) {
	f.Add([]byte("hello"), []byte(" .\x00"), []byte("-- footer"))
	f.Add([]byte{}, []byte{}, []byte{})
	f.Add([]byte("ab"), []byte("!"), []byte("=="))
	f.Add([]byte("ab"), []byte(""), []byte(" \r\n.="))
	f.Fuzz(func(t *testing.T, data, noise, tail []byte) {
		enc := base64.StdEncoding.EncodeToString(data)
		if !strings.HasSuffix(enc, "=") {
			tail = nil // text after unpadded data would be read as data
		}
		var b strings.Builder
		j := 0
		for i := 0; i < len(enc); i++ {
			if j < len(noise) && i%3 == 0 {
				if c := noise[j]; !isB64(c) && c != '=' && c != '-' && c != '\r' && c != '\n' {
					b.WriteByte(c)
				}
				j++
			}
			b.WriteByte(enc[i])
		}
		raw := "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" + b.String() + "\r\n" + string(tail)
		var got []byte
		problems, err := WalkParts(strings.NewReader(raw), func(p *Part) error {
			var err error
			got, err = io.ReadAll(p.Body)
			return err
		})
		wantLost := bytes.ContainsFunc(tail, func(r rune) bool { return r < 128 && isB64(byte(r)) })
		if err != nil || !bytes.Equal(got, data) || wantLost != (len(problems) > 0) {
			t.Fatalf("got %q, want %q; problems %v (want data lost: %v), err %v", got, data, problems, wantLost, err)
		}
		var pe *PartError
		if wantLost && (len(problems) != 1 || !errors.As(problems[0], &pe) || !pe.DataLost) {
			t.Fatalf("problems %v, want one with DataLost", problems)
		}
	})
}

func isB64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

// The first part's header has the same 1 MiB limit as every other (it used to share a
// 32 MiB budget with the preamble, and a 30 MiB header line cost ~180 MB of allocations);
// a long preamble before it still streams past.
func TestWalkPartsFirstHeaderLimit(t *testing.T) {
	raw := "Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nX-Big: " + strings.Repeat("x", 30<<20) +
		"\r\n\r\nbody\r\n--B--\r\n"
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	n := 0
	problems, err := WalkParts(strings.NewReader(raw), func(p *Part) error { n++; return nil })
	runtime.ReadMemStats(&after)
	if err != nil || n != 0 || len(problems) != 1 {
		t.Errorf("parts %d, problems %v, err %v", n, problems, err)
	}
	if mb := (after.TotalAlloc - before.TotalAlloc) >> 20; mb > 16 {
		t.Errorf("%d MB allocated for a refused header", mb)
	}
	// A 40 MiB preamble, with long lines and boundary look-alikes, then the parts.
	pre := strings.Repeat(strings.Repeat("p", 10_000)+"\r\n--Bx\r\n--B text\r\n", 4000)
	raw = "Content-Type: multipart/mixed; boundary=B\r\n\r\n" + pre + "--B \t\r\nContent-Type: text/plain\r\n\r\none\r\n--B\r\n\r\ntwo\r\n--B--\r\n"
	var got []string
	problems, err = WalkParts(strings.NewReader(raw), func(p *Part) error {
		got = append(got, string(readAll(t, p.Body)))
		return nil
	})
	if err != nil || len(problems) != 0 || fmt.Sprint(got) != "[one two]" {
		t.Errorf("parts %q, problems %v, err %v", got, problems, err)
	}
}

// A ca_file that is not a regular file (a FIFO would block forever, /dev/zero would fill
// memory) or is absurdly large is refused at once with a clear error.
func TestCAFileSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.pem")
	if f, err := os.Create(big); err == nil {
		f.Truncate(maxCAFile + 1)
		f.Close()
	}
	cases := map[string]string{"/dev/zero": "not a regular file", dir: "not a regular file", big: "a CA bundle is at most"}
	if runtime.GOOS != "windows" {
		fifo := filepath.Join(dir, "fifo.pem")
		if err := mkfifo(fifo); err == nil {
			cases[fifo] = "not a regular file"
		}
	}
	for file, want := range cases {
		done := make(chan error, 1)
		go func() {
			_, err := tlsConfig(&Config{Host: "h", Port: 993, CAFile: file, VerifyCertificate: true})
			done <- err
		}()
		select {
		case err := <-done:
			var ie *Error
			if !errors.As(err, &ie) || ie.Kind != KindConfig || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: err = %v, want a config error with %q", file, err, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: tlsConfig hung", file)
		}
	}
}

// A boundary far beyond RFC 2046's 70 characters is reported, not buffered per level.
func TestWalkPartsHugeBoundary(t *testing.T) {
	b := strings.Repeat("b", 500_000)
	raw := "Content-Type: multipart/mixed; boundary=\"" + b + "\"\r\n\r\n--" + b + "\r\n\r\nx\r\n--" + b + "--\r\n"
	problems, err := WalkParts(strings.NewReader(raw), func(p *Part) error { return nil })
	if err != nil || len(problems) != 1 || !strings.Contains(problems[0].Error(), "multipart") {
		t.Errorf("problems %v, err %v", problems, err)
	}
}
