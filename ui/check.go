package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2/lang"

	"mailmover/mover"
	"mailmover/store"
)

// renderCheck puts the engine's check report (mover.Check, the same check as
// `mailmover check`) into plain sentences for the window. The report is filled as far as
// the check got, also on error.
func renderCheck(rep *mover.CheckReport, p *store.Profile) *CheckReport {
	out := &CheckReport{}
	if rep == nil {
		return out
	}
	if !rep.SignedIn {
		if rep.Server != "" {
			out.Lines = append(out.Lines, fmt.Sprintf(lang.L("✗ Could not finish the check of %s as %s."), rep.Server, rep.Username))
		}
		return out
	}
	out.Lines = append(out.Lines,
		fmt.Sprintf(lang.L("✓ Signed in to %s as %s (%s, %s) in %s."), rep.Server, rep.Username, rep.Mechanism, rep.Security,
			rep.Elapsed.Round(time.Millisecond)),
		fmt.Sprintf(lang.L("✓ Folder %q holds %s."), rep.Folder.Name, plural(int(rep.Folder.Messages), lang.L("%d message"), lang.L("%d messages"))),
		fmt.Sprintf(lang.L("✓ %s match (%s) and would be processed."), plural(rep.Matching, lang.L("%d message"), lang.L("%d messages")), describeCriteria(rep.Criteria)),
		fmt.Sprintf(lang.L("✓ The mailbox has %s."), plural(len(rep.Folders), lang.L("%d folder"), lang.L("%d folders"))))
	out.OK = rep.OK()
	if rep.MoveTargetMissing {
		out.Lines = append(out.Lines, fmt.Sprintf(lang.L("✗ The folder %q for \"Move to folder\" does not exist on the server: create it, or pick one of: %s."),
			p.Common.MoveTo, folderList(rep.Folders, 8)))
	}
	for _, w := range rep.Warnings {
		out.Lines = append(out.Lines, "⚠ "+w)
	}
	return out
}

func describeCriteria(cr mover.SearchCriteria) string {
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

func folderList(fs []mover.Folder, n int) string {
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
