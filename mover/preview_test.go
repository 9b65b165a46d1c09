package mover

import (
	"path"
	"strings"
	"testing"
	"time"

	"mailmover/imapsrc"
	"mailmover/store"
)

func TestCriteria(t *testing.T) {
	since := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		common store.Common
		want   imapsrc.Criteria
	}{
		{"unseen by default", store.Common{Search: store.SearchUnseen}, imapsrc.Criteria{UnseenOnly: true}},
		{"empty search is unseen", store.Common{}, imapsrc.Criteria{UnseenOnly: true}},
		{"all", store.Common{Search: store.SearchAll}, imapsrc.Criteria{}},
		{"filters", store.Common{Search: store.SearchAll, Since: " 2026-03-01 ", From: "billing@", Subject: "Invoice"},
			imapsrc.Criteria{Since: since, From: "billing@", Subject: "Invoice"}},
		{"bad date is no limit", store.Common{Search: store.SearchUnseen, Since: "1.3.2026"}, imapsrc.Criteria{UnseenOnly: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := store.DefaultProfile("c")
			p.Common = tc.common
			got := Criteria(p)
			if got.UnseenOnly != tc.want.UnseenOnly || !got.Since.Equal(tc.want.Since) || got.From != tc.want.From ||
				got.Subject != tc.want.Subject || got.MinUID != 0 {
				t.Fatalf("Criteria = %+v, want %+v", got, tc.want)
			}
			// The mover's own search is the same, with the mark added.
			m := &Mover{prof: p}
			mc := m.criteria(42)
			if mc.MinUID != 42 || mc.UnseenOnly != got.UnseenOnly || !mc.Since.Equal(got.Since) || mc.From != got.From || mc.Subject != got.Subject {
				t.Fatalf("mover criteria %+v differ from Criteria %+v", mc, got)
			}
		})
	}
	if c := Criteria(nil); !c.UnseenOnly {
		t.Fatalf("Criteria(nil) = %+v, want unread only", c)
	}
}

func TestPreviewName(t *testing.T) {
	date := time.Date(2026, 11, 28, 14, 5, 9, 0, time.Local)
	hostile := NameSample{Filename: "../../etc/pass\x00wd", Date: date, From: "a/b@evil", Subject: "..\\..\\boot", UID: 7, MessageID: "<x/y@z>"}
	tests := []struct {
		tmpl   string
		sample []NameSample
		want   string
		bad    bool
	}{
		{"{filename}", nil, "invoice-4711.pdf", false},
		{"", nil, "invoice-4711.pdf", false},
		{"{date}_{time}_{name}.{ext}", nil, "2026-11-28_140509_invoice-4711.pdf", false},
		{"{from}/{subject}/{uid}-{filename}", nil, "billing@example.com/Invoice 4711/1234-invoice-4711.pdf", false},
		{"{messageid}.{ext}", nil, "CAFx8w2@mail.example.com.pdf", false},
		{"{subject}/{filename}", []NameSample{hostile}, "_.._boot/_.._etc_pass_wd", false},
		{"{from}/{filename}", []NameSample{hostile}, "a_b@evil/_.._etc_pass_wd", false},
		{"{nope}", nil, "", true},
		{"/abs/{filename}", nil, "", true},
		{"a/../{filename}", nil, "", true},
		{"{filename", nil, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.tmpl, func(t *testing.T) {
			p := store.DefaultProfile("p")
			p.Destination.Filename = tc.tmpl
			got, err := PreviewName(p, tc.sample...)
			if tc.bad {
				if err == nil || !strings.Contains(err.Error(), "destination.filename") {
					t.Fatalf("PreviewName(%q) = %q, %v; want an error naming destination.filename", tc.tmpl, got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// The hostile rows: compare the components after the mover's rules.
			if tc.sample != nil {
				for _, c := range strings.Split(got, "/") {
					if c == "" || c == "." || c == ".." || strings.ContainsAny(c, "\\\x00") {
						t.Fatalf("unsafe component %q in %q", c, got)
					}
				}
				if !path.IsAbs("/d/"+got) || !strings.HasPrefix(path.Clean("/d/"+got), "/d/") {
					t.Fatalf("%q leaves the destination", got)
				}
			}
			if got != tc.want {
				t.Fatalf("PreviewName(%q) = %q, want %q", tc.tmpl, got, tc.want)
			}
		})
	}
}

// TestPreviewNameIsTheMoversName: the preview and the name the mover gives a saved file
// come from the same code.
func TestPreviewNameIsTheMoversName(t *testing.T) {
	p := store.DefaultProfile("p")
	p.Destination.Filename = "{date}/{subject}_{filename}"
	s := NameSample{Filename: "Q3 report?.csv", Date: time.Date(2026, 1, 2, 3, 4, 5, 0, time.Local), From: "x@y", Subject: "CON", UID: 9, MessageID: "<m@id>"}
	got, err := PreviewName(p, s)
	if err != nil {
		t.Fatal(err)
	}
	m := &Mover{prof: p}
	want := m.finalName(nameForPart(s.Filename, "text/csv", 1), imapsrc.Envelope{Date: s.Date, From: s.From, Subject: s.Subject, MessageID: s.MessageID}, s.UID)
	if got != want {
		t.Fatalf("preview %q, mover %q", got, want)
	}
	if got != "2026-01-02/CON_Q3 report_.csv" {
		t.Fatalf("preview = %q", got)
	}
}
