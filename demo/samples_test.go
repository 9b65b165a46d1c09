package demo

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/mail"
)

// leaf is one decoded leaf part of a parsed message.
type leaf struct {
	contentType string
	filename    string
	body        []byte
}

// walk parses a raw message with go-message and returns its leaves, descending into
// message/rfc822 parts as the mover does.
func walk(t *testing.T, raw []byte) []leaf {
	t.Helper()
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, raw)
	}
	var out []leaf
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		body, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		var l leaf
		switch h := p.Header.(type) {
		case *mail.AttachmentHeader:
			l.contentType, _, _ = h.ContentType()
			l.filename, err = h.Filename()
			if err != nil {
				t.Fatalf("filename: %v", err)
			}
		case *mail.InlineHeader:
			l.contentType, _, _ = h.ContentType()
			if _, params, err := h.ContentDisposition(); err == nil {
				l.filename = params["filename"]
			}
		}
		if l.contentType == "message/rfc822" {
			out = append(out, l)
			out = append(out, walk(t, body)...)
			continue
		}
		l.body = body
		out = append(out, l)
	}
	return out
}

func TestSamplesParseAndCarryTheHardCases(t *testing.T) {
	all := samples()
	if n := len(all); n < 18 || n > 25 {
		t.Fatalf("got %d sample messages, want about 20", n)
	}
	names := map[string]bool{}
	hashes := map[[32]byte]string{}
	types := map[string]int{}
	for i, s := range all {
		raw := s.build(i + 1)
		if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
			t.Errorf("message %d (%s) has a bare LF", i+1, s.subject)
		}
		for _, l := range walk(t, raw) {
			types[l.contentType]++
			if l.filename != "" {
				names[l.filename] = true
			}
			if l.filename == "" && l.contentType != "application/pdf" || len(l.body) == 0 {
				continue // body text and alternative parts
			}
			h := sha256.Sum256(l.body)
			if prev, dup := hashes[h]; dup {
				t.Errorf("attachment %q of %q has the same content as %s", l.filename, s.subject, prev)
			}
			hashes[h] = s.subject + "/" + l.filename
		}
	}
	for _, want := range []string{
		"../../Rechnung März 2026?.pdf",
		"Grüße aus Köln — Angebot Nr. 12.pdf",
		"Umsätze-Q1.csv",
		"Supplier-Invoice-7781.pdf",
		`..\..\Windows\export.csv`,
		"/tmp/mailmover-demo-escape.csv",
		"CON.csv",
		"factur-x.xml",
		"logo.png",
	} {
		if !names[want] {
			t.Errorf("no attachment named %q; have %q", want, keys(names))
		}
	}
	if types["application/pdf"] < 8 || types["text/csv"] < 4 || types["message/rfc822"] != 1 {
		t.Errorf("content types = %v; want ≥8 PDFs, ≥4 CSVs, one forwarded message", types)
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

var objRe = regexp.MustCompile(`^(\d+) 0 obj\n`)

// checkPDF verifies the PDF's structure: header, EOF marker, startxref pointing at the
// xref table, and every xref offset pointing at the object it names.
func checkPDF(t *testing.T, pdf []byte) {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
		t.Fatalf("bad PDF header or trailer:\n%s", pdf)
	}
	i := bytes.LastIndex(pdf, []byte("startxref\n"))
	if i < 0 {
		t.Fatal("no startxref")
	}
	rest := strings.Fields(string(pdf[i+len("startxref\n"):]))
	xref, err := strconv.Atoi(rest[0])
	if err != nil || xref >= len(pdf) || !bytes.HasPrefix(pdf[xref:], []byte("xref\n0 ")) {
		t.Fatalf("startxref %q does not point at the xref table", rest[0])
	}
	lines := strings.Split(string(pdf[xref:]), "\n")
	count, _ := strconv.Atoi(strings.Fields(lines[1])[1])
	if count < 6 {
		t.Fatalf("xref lists %d objects, want 6", count)
	}
	for n := 1; n < count; n++ {
		entry := lines[2+n]
		if len(entry) != 19 { // 20 bytes with the newline, as the PDF spec demands
			t.Errorf("xref entry %d %q is not 20 bytes", n, entry)
		}
		off, _ := strconv.Atoi(entry[:10])
		m := objRe.FindSubmatch(pdf[off:])
		if m == nil || string(m[1]) != strconv.Itoa(n) {
			t.Errorf("xref entry %d points at %q", n, pdf[off:min(off+12, len(pdf))])
		}
	}
	// The content stream's /Length must match its bytes.
	s := bytes.Index(pdf, []byte("stream\n"))
	e := bytes.Index(pdf, []byte("endstream"))
	lm := regexp.MustCompile(`/Length (\d+)`).FindSubmatch(pdf)
	if s < 0 || e < 0 || lm == nil {
		t.Fatal("no content stream")
	}
	if l, _ := strconv.Atoi(string(lm[1])); l != e-(s+len("stream\n")) {
		t.Errorf("/Length %d, stream has %d bytes", l, e-(s+len("stream\n")))
	}
}

func TestTinyPDFIsWellFormed(t *testing.T) {
	for _, tc := range []struct {
		title string
		lines []string
	}{
		{"Invoice 1", []string{"a", "b"}},
		{"Parens (and) back\\slash", nil},
		{"Umlaut März", []string{"Grüße", strings.Repeat("x", 300)}},
	} {
		t.Run(tc.title, func(t *testing.T) {
			pdf := tinyPDF(tc.title, tc.lines...)
			checkPDF(t, pdf)
			if !bytes.Contains(pdf, []byte("("+pdfEscape(tc.title)+") Tj")) {
				t.Errorf("title not drawn")
			}
		})
	}
}

func TestPDFEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain":     "plain",
		"a(b)c":     `a\(b\)c`,
		`back\`:     `back\\`,
		"März":      "M?rz",
		"tab\there": "tab?here",
	} {
		if got := pdfEscape(in); got != want {
			t.Errorf("pdfEscape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLiveMessagesAreUnique(t *testing.T) {
	now := time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC)
	seen := map[[32]byte]bool{}
	for n := 1; n <= 5; n++ {
		ls := walk(t, liveMessage(n, now))
		var pdfs int
		for _, l := range ls {
			if l.contentType != "application/pdf" {
				continue
			}
			pdfs++
			checkPDF(t, l.body)
			if want := "Invoice-LIVE-000" + strconv.Itoa(n) + ".pdf"; l.filename != want {
				t.Errorf("live file name %q, want %q", l.filename, want)
			}
			h := sha256.Sum256(l.body)
			if seen[h] {
				t.Errorf("live message %d repeats an earlier PDF", n)
			}
			seen[h] = true
		}
		if pdfs != 1 {
			t.Errorf("live message %d has %d PDFs, want 1", n, pdfs)
		}
	}
}

// FuzzPDFEscape: whatever the text, the PDF stays well formed and the literal string
// stays closed (every parenthesis escaped).
func FuzzPDFEscape(f *testing.F) {
	for _, s := range []string{"", "()", `\`, "März", "a)\n(b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := pdfEscape(s)
		for i := 0; i < len(e); i++ {
			c := e[i]
			if c < 0x20 || c >= 0x7f {
				t.Fatalf("unescaped byte %#x in %q", c, e)
			}
			if c == '\\' {
				i++ // the escaped character
				continue
			}
			if c == '(' || c == ')' {
				t.Fatalf("bare parenthesis in %q", e)
			}
		}
		checkPDF(t, tinyPDF(s, s))
	})
}
