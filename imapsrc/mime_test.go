package imapsrc

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// wantPart is what the corpus test expects of one leaf part.
type wantPart struct {
	ct, name, disp  string
	att, text, html bool
	depth           int
	body            string // exact content; "" with bodyFile for a file in testdata/mime
	bodyFile        string
	bodyErr         bool // reading the body fails with a *PartError
}

func TestWalkPartsCorpus(t *testing.T) {
	for _, tc := range []struct {
		file     string
		parts    []wantPart
		problems []string // substrings, one per expected problem
	}{
		{"01-base64-qp.eml", []wantPart{
			{ct: "text/plain", text: true, body: "Guten Tag, anbei die Rechnung für Oktober. \r\nSoft break."},
			{ct: "application/pdf", name: "Rechnung-2026-10.pdf", disp: "attachment", att: true, bodyFile: "pdf.bin"},
		}, nil},
		{"02-rfc2231.eml", []wantPart{
			{ct: "text/plain", text: true, body: "body"},
			{ct: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name: "Übersicht € 2026.xlsx", disp: "attachment", att: true, body: "xlsx"},
			{ct: "text/plain", name: "Grüße.txt", disp: "attachment", att: true, body: "hallo"},
		}, nil},
		{"03-rfc2047.eml", []wantPart{
			{ct: "application/pdf", name: "Ärger.pdf", disp: "attachment", att: true, body: "abc"},
			// An attachment keeps its bytes: ISO-8859-1 ß stays 0xDF.
			{ct: "text/plain", name: "Straße.txt", disp: "attachment", att: true, body: "Stra\xdfe"},
		}, nil},
		{"04-name-only.eml", []wantPart{
			{ct: "text/plain", text: true, body: "Scanned."},
			{ct: "application/pdf", name: "scan 0001.pdf", att: true, bodyFile: "pdf.bin"},
		}, nil},
		{"05-inline-image.eml", []wantPart{
			{ct: "text/plain", text: true, body: "plain text"},
			{ct: "text/html", html: true, body: `<p>html <img src="cid:logo"></p>`},
			{ct: "image/png", name: "image001.png", disp: "inline", att: true, body: "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"},
		}, nil},
		{"06-nested.eml", []wantPart{
			{ct: "text/plain", text: true, body: "see the forwarded mail"},
			{ct: "text/plain", text: true, depth: 1, body: "inner body"},
			{ct: "text/csv", name: "inner.csv", disp: "attachment", att: true, depth: 1, body: "a;b\xe4"},
		}, nil},
		{"07-unknown-charset.eml", []wantPart{
			{ct: "text/plain", text: true, body: "qapla'"},
			{ct: "application/octet-stream", name: "data.bin", att: true, body: "raw data"},
			{ct: "text/plain", name: "ok.txt", disp: "attachment", att: true, body: "ok\xe4"},
		}, []string{`unknown charset "x-klingon-9"`, `x-uuencode-9`}},
		{"08-broken-base64.eml", []wantPart{
			{ct: "application/pdf", name: "good1.pdf", disp: "attachment", att: true, body: "good1"},
			{ct: "application/pdf", name: "broken.pdf", disp: "attachment", att: true, bodyErr: true},
			{ct: "application/pdf", name: "good2.pdf", disp: "attachment", att: true, body: "good2"},
		}, []string{`part 2 (application/pdf, "broken.pdf"): broken base64 content`}},
		{"09-no-name.eml", []wantPart{
			{ct: "text/plain", text: true, body: "body"},
			{ct: "application/octet-stream", att: true, body: "nameless"},
		}, nil},
		{"10-single-part-latin1.eml", []wantPart{
			// A text body is converted to UTF-8.
			{ct: "text/plain", text: true, body: "Grüße €\r\n"},
		}, nil},
		{"11-lenient-params.eml", []wantPart{
			{ct: "application/pdf", name: "my file.pdf", disp: "attachment", att: true, body: "lenient"},
		}, nil},
		{"12-truncated.eml", []wantPart{
			{ct: "text/plain", text: true, body: "first part"},
			{ct: "application/pdf", name: "cut.pdf", att: true, bodyErr: true},
		}, []string{`part 2 (application/pdf, "cut.pdf"): broken base64 content (damaged, or cut short): unexpected EOF`}},
		{"13-no-mime.eml", []wantPart{
			{ct: "text/plain", text: true, body: "Just text.\r\n"},
		}, nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata/mime", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var got []*Part
			var bodies []string
			var bodyErrs []error
			problems, err := WalkParts(bytes.NewReader(raw), func(p *Part) error {
				b, rerr := io.ReadAll(p.Body)
				got = append(got, p)
				bodies = append(bodies, string(b))
				bodyErrs = append(bodyErrs, rerr)
				return rerr // a broken part's error is recorded, the walk goes on
			})
			if err != nil {
				t.Fatalf("WalkParts: %v", err)
			}
			if len(got) != len(tc.parts) {
				t.Fatalf("%d parts, want %d", len(got), len(tc.parts))
			}
			for i, w := range tc.parts {
				p := got[i]
				if p.Index != i+1 || p.ContentType != w.ct || p.Filename != w.name || p.Disposition != w.disp ||
					p.IsAttachment != w.att || p.IsText != w.text || p.IsHTML != w.html || p.Depth != w.depth {
					t.Errorf("part %d: %+v, want %+v", i+1, *p, w)
				}
				var pe *PartError
				if w.bodyErr {
					if !errors.As(bodyErrs[i], &pe) || pe.Index != i+1 {
						t.Errorf("part %d: body error %v, want a *PartError for it", i+1, bodyErrs[i])
					}
					continue
				}
				if bodyErrs[i] != nil {
					t.Errorf("part %d: body error %v", i+1, bodyErrs[i])
				}
				want := w.body
				if w.bodyFile != "" {
					b, _ := os.ReadFile(filepath.Join("testdata/mime", w.bodyFile))
					want = string(b)
				}
				if bodies[i] != want {
					t.Errorf("part %d body %q, want %q", i+1, bodies[i], want)
				}
			}
			if len(problems) != len(tc.problems) {
				t.Fatalf("problems %v, want %d: %q", problems, len(tc.problems), tc.problems)
			}
			for i, w := range tc.problems {
				if !strings.Contains(problems[i].Error(), w) {
					t.Errorf("problem %d: %q lacks %q", i, problems[i], w)
				}
			}
		})
	}
}

// An error of fn other than a part's own decoding error stops the walk.
func TestWalkPartsStopsOnCallbackError(t *testing.T) {
	raw, _ := os.ReadFile("testdata/mime/08-broken-base64.eml")
	boom := errors.New("disk full")
	n := 0
	_, err := WalkParts(bytes.NewReader(raw), func(p *Part) error { n++; return boom })
	if !errors.Is(err, boom) || n != 1 {
		t.Fatalf("err %v after %d parts; want disk full after 1", err, n)
	}
	// A part error of ANOTHER part returned by fn is not swallowed as this part's.
	var first error
	_, err = WalkParts(bytes.NewReader(raw), func(p *Part) error {
		if p.Index == 2 {
			_, first = io.ReadAll(p.Body)
			return nil
		}
		if p.Index == 3 && first != nil {
			return first
		}
		return nil
	})
	if err == nil {
		t.Error("a foreign PartError returned by fn was swallowed")
	}
}

func TestWalkPartsLimits(t *testing.T) {
	// Deep nesting stops at the limit, with a problem, not a stack overflow.
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n")
	for i := 0; i < 200; i++ {
		b.WriteString("--b" + itoa(i) + "\r\nContent-Type: multipart/mixed; boundary=\"b" + itoa(i+1) + "\"\r\n\r\n")
	}
	problems, err := WalkParts(strings.NewReader(b.String()), func(*Part) error { return nil })
	if err != nil || len(problems) == 0 || !strings.Contains(problems[0].Error(), "nested") {
		t.Errorf("deep nesting: problems %v, err %v", problems, err)
	}
	// A huge header is refused, not buffered.
	huge := "Subject: " + strings.Repeat("x", 2<<20) + "\r\n\r\nbody"
	if _, err := WalkParts(strings.NewReader(huge), func(*Part) error { return nil }); err == nil {
		t.Error("a 2 MiB header was accepted")
	}
	// A header line that is not a header makes the message unreadable.
	if _, err := WalkParts(strings.NewReader(" bad\r\n\r\n"), func(*Part) error { return nil }); err == nil {
		t.Error("a broken top header was accepted")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// FuzzWalkParts: hostile MIME never panics and never hangs; every part's body can be read.
func FuzzWalkParts(f *testing.F) {
	files, _ := filepath.Glob("testdata/mime/*.eml")
	for _, file := range files {
		b, _ := os.ReadFile(file)
		f.Add(b)
	}
	f.Add([]byte("Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n"))
	f.Add([]byte("Content-Type: message/rfc822\r\n\r\nContent-Type: message/rfc822\r\n\r\n"))
	f.Add([]byte("Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
		strings.Repeat("a=3D", 1500) + "=\r\n=4"))
	f.Add([]byte("Content-Type: application/pdf; name*2=c; name*0*=iso-8859-1''%E9; name*1=b; name*0=x\r\n\r\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: message/rfc822\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n!!!\r\n--B\r\n\r\n--B"))
	f.Fuzz(func(t *testing.T, data []byte) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			n := 0
			_, _ = WalkParts(bytes.NewReader(data), func(p *Part) error {
				n++
				if p.Index != n {
					t.Errorf("index %d, want %d", p.Index, n)
				}
				_, err := io.Copy(io.Discard, p.Body)
				return err
			})
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("WalkParts hung on %q", data)
		}
	})
}

// A long preamble before the first boundary does not lose the parts.
func TestWalkPartsLongPreamble(t *testing.T) {
	raw := "Content-Type: multipart/mixed; boundary=\"P\"\r\n\r\n" + strings.Repeat("preamble line\r\n", 200_000) +
		"--P\r\nContent-Type: text/plain\r\n\r\nbody\r\n--P--\r\n"
	var got []string
	problems, err := WalkParts(strings.NewReader(raw), func(p *Part) error {
		got = append(got, string(readAll(t, p.Body)))
		return nil
	})
	if err != nil || len(problems) != 0 || len(got) != 1 || got[0] != "body" {
		t.Fatalf("parts %q, problems %v, err %v", got, problems, err)
	}
}

// Problems where the part still came out whole are marked Recovered, so the mover can
// keep the message moving; a part that could not be read is not.
func TestPartErrorRecovered(t *testing.T) {
	for _, c := range []struct {
		file      string
		recovered bool
	}{{"07-unknown-charset.eml", true}, {"08-broken-base64.eml", false}} {
		f, err := os.Open(filepath.Join("testdata", "mime", c.file))
		if err != nil {
			t.Fatal(err)
		}
		problems, err := WalkParts(f, func(p *Part) error { _, _ = io.Copy(io.Discard, p.Body); return nil })
		f.Close()
		if err != nil || len(problems) == 0 {
			t.Fatalf("%s: problems %v, err %v", c.file, problems, err)
		}
		for _, pr := range problems {
			var pe *PartError
			if !errors.As(pr, &pe) {
				t.Fatalf("%s: %T is not a *PartError", c.file, pr)
			}
			if pe.Recovered != c.recovered {
				t.Errorf("%s: %v: Recovered = %v, want %v", c.file, pe, pe.Recovered, c.recovered)
			}
		}
	}
}
