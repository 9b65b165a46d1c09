package mover

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func TestSafeName(t *testing.T) {
	long := strings.Repeat("é", 150) + ".pdf"
	for _, tc := range []struct{ in, want string }{
		{"invoice.pdf", "invoice.pdf"},
		{"Rechnung März 2026.pdf", "Rechnung März 2026.pdf"},
		{"../../etc/passwd", "_.._etc_passwd"},
		{"..", ""},
		{".", ""},
		{"...", ""},
		{"", ""},
		{"   ", ""},
		{`C:\Windows\system32\evil.dll`, "C__Windows_system32_evil.dll"},
		{"/etc/passwd", "_etc_passwd"},
		{"a\x00b\x1fc\x7f.txt", "a_b_c_.txt"},
		{"line\r\nbreak.txt", "line__break.txt"},
		{"tab\there.txt", "tab_here.txt"},
		{"report.pdf. . ", "report.pdf"},
		{" lead.pdf", "lead.pdf"},
		{".hidden", "hidden"},
		{".mailmover-tmp-0011-aabb", "mailmover-tmp-0011-aabb"},
		{"CON", "_CON"},
		{"con.txt", "_con.txt"},
		{"Lpt9.pdf", "_Lpt9.pdf"},
		{"nul .txt", "_nul .txt"},
		{"COM10.txt", "COM10.txt"},
		{"CONSOLE.txt", "CONSOLE.txt"},
		{"a<b>c:d\"e|f?g*h.txt", "a_b_c_d_e_f_g_h.txt"},
		{"invoice\u202Efdp.exe", "invoice_fdp.exe"},
		{"zero\u200bwidth.pdf", "zero_width.pdf"},
		{"bad\xff\xfeutf8.pdf", "bad_utf8.pdf"},
		{"nbsp\u00a0name.pdf", "nbsp name.pdf"},
	} {
		if got := SafeName(tc.in); got != tc.want {
			t.Errorf("SafeName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	got := SafeName(long)
	if len(got) > maxNameBytes || !strings.HasSuffix(got, ".pdf") || !utf8.ValidString(got) {
		t.Errorf("long name: %d bytes, %q", len(got), got)
	}
	if got := SafeName("COM1" + strings.Repeat(" ", 300) + ".pdf"); got != "_COM1.pdf" {
		t.Errorf("reserved name after cutting: %q", got)
	}
	if got := SafeName("CON." + strings.Repeat("a", 300)); len(got) > maxNameBytes || !strings.HasPrefix(got, "_CON.") {
		t.Errorf("long reserved name: %d bytes, %q", len(got), got)
	}
	if got := SafeName(strings.Repeat("x", 300) + "." + strings.Repeat("y", 40)); len(got) > maxNameBytes {
		t.Errorf("long extension not cut: %d bytes", len(got))
	}
}

func TestNameForPartAndMask(t *testing.T) {
	for _, tc := range []struct {
		name, ctype string
		want        string
	}{
		{"", "application/pdf", "attachment-3.pdf"},
		{"", "image/jpeg", "attachment-3.jpg"},
		{"", "x-unknown/thing", "attachment-3.bin"},
		{"..", "application/pdf", "attachment-3.pdf"},
		{"ok.xml", "application/pdf", "ok.xml"},
	} {
		if got := nameForPart(tc.name, tc.ctype, 3); got != tc.want {
			t.Errorf("nameForPart(%q, %q) = %q, want %q", tc.name, tc.ctype, got, tc.want)
		}
	}
	for _, tc := range []struct {
		mask, name string
		want       bool
	}{
		{"*", "a.pdf", true},
		{"", "a.pdf", true},
		{"*.pdf", "A.PDF", true},
		{"*.PDF;*.xml", "x.xml", true},
		{" *.pdf ; *.xml ", "x.XML", true},
		{"*.pdf", "a.pdf.exe", false},
		{"invoice-*.pdf", "invoice-7.pdf", true},
		{"invoice-*.pdf", "other.pdf", false},
		{"[", "[", true},
		{";;", "a", false},
	} {
		if got := maskMatches(tc.mask, tc.name); got != tc.want {
			t.Errorf("maskMatches(%q, %q) = %v", tc.mask, tc.name, got)
		}
	}
}

func TestExpandTemplate(t *testing.T) {
	date := time.Date(2026, 3, 4, 5, 6, 7, 0, time.Local)
	v := nameVars{Filename: "invoice.pdf", Date: date, From: "billing@example.com", Subject: "March / April",
		UID: 42, MessageID: "<abc@example.com>"}
	for _, tc := range []struct{ tmpl, want string }{
		{"", "invoice.pdf"},
		{"{filename}", "invoice.pdf"},
		{"{date}/{from}/{filename}", "2026-03-04/billing@example.com/invoice.pdf"},
		{"{name}-{uid}.{ext}", "invoice-42.pdf"},
		{"{date}_{time} {subject}.{ext}", "2026-03-04_050607 March _ April.pdf"},
		{"{messageid}/{FILENAME}", "abc@example.com/invoice.pdf"},
		{"../{filename}", "_/invoice.pdf"},
		{"/abs/{filename}", "abs/invoice.pdf"},
		{`a\b\{filename}`, "a/b/invoice.pdf"},
		{"{unknown}-{filename}", "{unknown}-invoice.pdf"},
		{"{subject}/", "March _ April/invoice.pdf"},
		{"x/{from}", "x/billing@example.com"},
		{"{nope", "{nope"},
	} {
		if got := expandTemplate(tc.tmpl, v); got != tc.want {
			t.Errorf("expandTemplate(%q) = %q, want %q", tc.tmpl, got, tc.want)
		}
	}
	hostile := nameVars{Filename: "..", Subject: "../../../../etc", From: "..", MessageID: "<../..>"}
	for _, tmpl := range []string{"{subject}/{filename}", "{from}/{messageid}/{filename}", "{filename}", "{subject}"} {
		got := expandTemplate(tmpl, hostile)
		if !filepath.IsLocal(filepath.FromSlash(got)) {
			t.Errorf("expandTemplate(%q) = %q is not local", tmpl, got)
		}
	}
	if got := withSuffix("a/b.pdf", 2); got != "a/b (2).pdf" {
		t.Errorf("withSuffix = %q", got)
	}
	if got := withSuffix("noext", 3); got != "noext (3)" {
		t.Errorf("withSuffix = %q", got)
	}
}

// checkSafe fails when name is not a safe single component.
func checkSafe(t *testing.T, in, name string) {
	t.Helper()
	if name == "" {
		return
	}
	if !utf8.ValidString(name) || len(name) > maxNameBytes || strings.ContainsAny(name, `/\<>:"|?*`) ||
		name == "." || name == ".." || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") ||
		strings.HasSuffix(name, " ") || strings.HasPrefix(name, " ") || !filepath.IsLocal(name) {
		t.Fatalf("SafeName(%q) = %q is not safe", in, name)
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			t.Fatalf("SafeName(%q) = %q has control or format character %U", in, name, r)
		}
	}
	base := strings.ToUpper(strings.TrimRight(strings.SplitN(name, ".", 2)[0], " "))
	if reservedWindows[base] {
		t.Fatalf("SafeName(%q) = %q is a reserved Windows name", in, name)
	}
	if SafeName(name) != name {
		t.Fatalf("SafeName is not idempotent on %q: %q", name, SafeName(name))
	}
}

func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"invoice.pdf", "../x", "CON.txt", "a\u202Eb", "\xff", " . ", strings.Repeat("ä", 200) + ".pdf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkSafe(t, s, SafeName(s))
	})
}

func FuzzExpandTemplate(f *testing.F) {
	f.Add("{date}/{from}/{filename}", "a.pdf", "subj", "x@y", "<id>")
	f.Add("../../{subject}", "..", "../..", "..", "<../>")
	f.Add(`\\server\{name}.{ext}`, "CON.pdf", "\x00", "/", "")
	f.Fuzz(func(t *testing.T, tmpl, filename, subject, from, mid string) {
		name := nameForPart(filename, "application/pdf", 1)
		rel := expandTemplate(tmpl, nameVars{Filename: name, Subject: subject, From: from, MessageID: mid, UID: 1,
			Date: time.Unix(0, 0)})
		if rel == "" || !filepath.IsLocal(filepath.FromSlash(rel)) {
			t.Fatalf("expandTemplate(%q) = %q is not local", tmpl, rel)
		}
		dest := filepath.FromSlash("/dest")
		full := filepath.Join(dest, filepath.FromSlash(rel))
		if r, err := filepath.Rel(dest, full); err != nil || !filepath.IsLocal(r) {
			t.Fatalf("%q resolves outside the destination", rel)
		}
		for _, c := range strings.Split(rel, "/") {
			if c == "" {
				t.Fatalf("empty component in %q", rel)
			}
			checkSafe(t, rel, c)
		}
	})
}
