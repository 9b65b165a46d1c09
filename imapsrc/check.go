package imapsrc

import (
	"context"
	"time"

	"github.com/emersion/go-imap/v2"

	"mailmover/i18n"
)

// CheckReport is what Check found: enough for `mailmover check` and the window's Check
// button to show what works and what to change.
type CheckReport struct {
	Server       string   // host:port
	Security     string   // e.g. "TLS 1.3 (implicit)" or "none"
	Mechanism    string   // sign-in mechanism used
	Capabilities []string // after sign-in
	Folders      []Folder
	Mailbox      Mailbox // the configured folder
	Matching     int     // messages matching the criteria
	Warnings     []string
	Elapsed      time.Duration
}

// Check signs in, lists the folders, selects cfg.Folder and counts the mail matching
// crit. The report is filled as far as Check got, also when it returns an error (an
// *Error with Advice).
func Check(ctx context.Context, cfg Config, crit Criteria) (*CheckReport, error) {
	start := time.Now()
	rep := &CheckReport{}
	defer func() { rep.Elapsed = time.Since(start) }()
	if err := cfg.normalize(); err != nil {
		return rep, err
	}
	rep.Server = cfg.addr()
	if !cfg.VerifyCertificate && cfg.TLS != tlsNone {
		rep.Warnings = append(rep.Warnings, i18n.T("certificate verification is off (verify_certificate = false): the connection can be intercepted; prefer ca_file for a private server"))
	}
	if cfg.TLS == tlsNone {
		rep.Warnings = append(rep.Warnings, i18n.T("no TLS: mail crosses the network unencrypted"))
	}
	c, err := Dial(ctx, cfg)
	if err != nil {
		return rep, err
	}
	defer c.Close()
	rep.Security, rep.Mechanism, rep.Capabilities = c.tlsInfo, c.mech, c.Capabilities()
	rep.Mailbox = c.mailbox
	if rep.Folders, err = c.ListFolders(ctx); err != nil {
		return rep, err
	}
	res, err := c.Search(ctx, crit)
	if err != nil {
		return rep, err
	}
	rep.Matching = len(res.UIDs)
	if !c.caps.Has(imap.CapIdle) {
		rep.Warnings = append(rep.Warnings, i18n.T("the server does not offer IDLE: new mail is found by polling"))
	}
	if !c.caps.Has(imap.CapUIDPlus) {
		rep.Warnings = append(rep.Warnings, i18n.T("the server lacks UIDPLUS: after = move/delete must use a bare EXPUNGE, which also removes other messages flagged deleted"))
	}
	if !c.caps.Has(imap.CapMove) {
		rep.Warnings = append(rep.Warnings, i18n.T("the server lacks MOVE: moves are done as copy + delete"))
	}
	return rep, nil
}
