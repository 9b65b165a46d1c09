package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2/lang"

	"mailmover/imapsrc"
	"mailmover/mover"
	"mailmover/store"
)

// runCheck runs the same check as `mailmover check` (imapsrc.Check: sign in, list the
// folders, select the profile's folder, count the matching mail) and puts the report
// into plain sentences. The report is filled as far as the check got, also on error.
func runCheck(ctx context.Context, cfg imapsrc.Config, p *store.Profile) (*CheckReport, error) {
	crit := mover.Criteria(p)
	rep, err := imapsrc.Check(ctx, cfg, crit)
	out := &CheckReport{}
	if rep == nil {
		return out, err
	}
	if err != nil {
		if rep.Server != "" {
			out.Lines = append(out.Lines, fmt.Sprintf(lang.L("✗ Could not finish the check of %s as %s."), rep.Server, cfg.Username))
		}
		return out, err
	}
	out.Lines = append(out.Lines,
		fmt.Sprintf(lang.L("✓ Signed in to %s as %s (%s, %s) in %s."), rep.Server, cfg.Username, rep.Mechanism, rep.Security,
			rep.Elapsed.Round(time.Millisecond)),
		fmt.Sprintf(lang.L("✓ Folder %q holds %s."), rep.Mailbox.Name, plural(int(rep.Mailbox.Messages), lang.L("%d message"), lang.L("%d messages"))),
		fmt.Sprintf(lang.L("✓ %s match (%s) and would be processed."), plural(rep.Matching, lang.L("%d message"), lang.L("%d messages")), describeCriteria(crit)),
		fmt.Sprintf(lang.L("✓ The mailbox has %s."), plural(len(rep.Folders), lang.L("%d folder"), lang.L("%d folders"))))
	out.OK = true
	if p.Common.After == store.AfterMove && !hasFolder(rep.Folders, p.Common.MoveTo) {
		out.OK = false
		out.Lines = append(out.Lines, fmt.Sprintf(lang.L("✗ The folder %q for \"Move to folder\" does not exist on the server: create it, or pick one of: %s."),
			p.Common.MoveTo, folderList(rep.Folders, 8)))
	}
	for _, w := range rep.Warnings {
		out.Lines = append(out.Lines, "⚠ "+w)
	}
	return out, nil
}

func describeCriteria(cr imapsrc.Criteria) string {
	parts := []string{lang.L("all mail")}
	if cr.UnseenOnly {
		parts[0] = lang.L("unread mail")
	}
	if !cr.Since.IsZero() {
		parts = append(parts, fmt.Sprintf(lang.L("since %s"), formatDate(cr.Since)))
	}
	if cr.From != "" {
		parts = append(parts, fmt.Sprintf(lang.L("from contains %q"), cr.From))
	}
	if cr.Subject != "" {
		parts = append(parts, fmt.Sprintf(lang.L("subject contains %q"), cr.Subject))
	}
	return strings.Join(parts, ", ")
}

func hasFolder(fs []imapsrc.Folder, name string) bool {
	for _, f := range fs {
		if f.Name == name || (strings.EqualFold(name, "INBOX") && strings.EqualFold(f.Name, "INBOX")) {
			return true
		}
	}
	return false
}

func folderList(fs []imapsrc.Folder, n int) string {
	var names []string
	for _, f := range fs {
		if !f.NoSelect {
			names = append(names, f.Name)
		}
	}
	if len(names) > n {
		names = append(names[:n], "…")
	}
	return strings.Join(names, ", ")
}
