package ui

import "testing"

func TestFolderURL(t *testing.T) {
	for in, want := range map[string]string{
		"/srv/mail-in":          "file:///srv/mail-in",
		`C:\mail-in\invoices`:   "file:///C:/mail-in/invoices",
		`d:/in`:                 "file:///d:/in",
		`\\server\share\in box`: "file://server/share/in%20box",
	} {
		if got := folderURL(in).String(); got != want {
			t.Errorf("folderURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExamplePath(t *testing.T) {
	for _, c := range [][3]string{
		{"/srv/in/", "2026/a.pdf", "/srv/in/2026/a.pdf"},
		{`C:\mail-in\`, "2026/a.pdf", `C:\mail-in\2026\a.pdf`},
		{`\\server\share\in`, "a.pdf", `\\server\share\in\a.pdf`},
		{`~\in`, "a.pdf", `~\in\a.pdf`},
		{"~/in", "a.pdf", "~/in/a.pdf"},
	} {
		if got := examplePath(c[0], c[1]); got != c[2] {
			t.Errorf("examplePath(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}
