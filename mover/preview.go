package mover

import (
	"fmt"
	"strings"
	"time"

	"mailmover/i18n"
	"mailmover/imapsrc"
	"mailmover/store"
)

// Criteria returns the IMAP search the mover runs for p's [common] settings: unread or
// all mail, since (YYYY-MM-DD; an unparsable date is no limit here — Validate reports it),
// and the from and subject substrings. MinUID is left 0; the mover raises it to the
// state's mark. `mailmover check` and the window's Check count mail with it, so that they
// count exactly what the mover would take.
func Criteria(p *store.Profile) imapsrc.Criteria {
	if p == nil {
		return imapsrc.Criteria{UnseenOnly: true}
	}
	c := &p.Common
	cr := imapsrc.Criteria{UnseenOnly: c.Search != store.SearchAll, From: c.From, Subject: c.Subject}
	if t, err := time.Parse(time.DateOnly, strings.TrimSpace(c.Since)); err == nil {
		cr.Since = t
	}
	return cr
}

// NameSample is a message and file a preview name is made for (PreviewName).
type NameSample struct {
	Filename  string // the file's name as the mail gives it (made safe first)
	Date      time.Time
	From      string
	Subject   string
	UID       uint32
	MessageID string
}

// DefaultNameSample is the sample file PreviewName uses when none is given.
var DefaultNameSample = NameSample{
	Filename:  "invoice-4711.pdf",
	Date:      time.Date(2026, 11, 28, 14, 5, 9, 0, time.Local),
	From:      "billing@example.com",
	Subject:   "Invoice 4711",
	UID:       1234,
	MessageID: "<CAFx8w2@mail.example.com>",
}

// PreviewName returns the path, relative to the destination folder and "/"-separated,
// that the mover would give the sample file (DefaultNameSample when none is given) under
// p's destination.filename — with the mover's own template expansion and safe-name rules.
// It returns an error, naming what to change, when the template is not valid. Collisions
// (on_conflict) are not applied: the preview shows the first file of that name.
func PreviewName(p *store.Profile, sample ...NameSample) (string, error) {
	if p == nil {
		return "", i18n.New("no profile given")
	}
	tmpl := p.Destination.Filename
	if strings.TrimSpace(tmpl) == "" {
		tmpl = DefaultTemplate
	}
	if why := store.FilenameTemplateProblem(tmpl); why != "" {
		return "", fmt.Errorf("destination.filename %s", why)
	}
	s := DefaultNameSample
	if len(sample) > 0 {
		s = sample[0]
	}
	name := nameForPart(s.Filename, "application/octet-stream", 1)
	return expandTemplate(tmpl, nameVars{Filename: name, Date: s.Date, From: s.From,
		Subject: s.Subject, UID: s.UID, MessageID: s.MessageID}), nil
}
