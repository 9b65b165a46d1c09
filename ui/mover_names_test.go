package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"mailmover/mover"
	"mailmover/store"
)

// TestDestinationExampleIsTheMoversName: the live example renders the template with the
// mover's own expansion and safe-name rules (its {time} is HHMMSS, values from mail
// lose their slashes), not a look-alike.
func TestDestinationExampleIsTheMoversName(t *testing.T) {
	h := newHarness(t)
	h.newProfile("names")
	v := h.v
	folder := strings.TrimRight(v.dest.folder.Text, "/")
	for _, tmpl := range []string{"{filename}", "{date}_{time}_{name}.{ext}", "{from}/{subject}/{uid}-{filename}"} {
		v.dest.filename.SetText(tmpl)
		p := store.DefaultProfile("x")
		p.Destination.Filename = tmpl
		name, err := mover.PreviewName(p)
		if err != nil {
			t.Fatal(err)
		}
		if want := folder + "/" + name; v.dest.example.Text != want {
			t.Errorf("template %q: example %q, want %q", tmpl, v.dest.example.Text, want)
		}
	}
	v.dest.filename.SetText("{date}_{time}_{filename}")
	if !strings.HasSuffix(v.dest.example.Text, "/2026-11-28_140509_invoice-4711.pdf") {
		t.Errorf("example = %q", v.dest.example.Text)
	}
	v.dest.filename.SetText("{nope}")
	if v.dest.example.Text != "—" {
		t.Errorf("example of a bad template = %q", v.dest.example.Text)
	}
}

// TestCheckCountsWithTheMoversCriteria: Check counts what the mover would take, with the
// filters of the Common tab.
func TestCheckCountsWithTheMoversCriteria(t *testing.T) {
	h, _ := realHarness(t, 3)
	v := h.v
	test.Type(v.common.subject, "Invoice 1")
	test.Tap(v.act.check)
	h.waitFor("check", func() bool { return !v.act.checking })
	if !strings.Contains(v.lastDialog, "1 message match") || !strings.Contains(v.lastDialog, `subject contains "Invoice 1"`) {
		t.Fatalf("check said:\n%s", v.lastDialog)
	}
}
