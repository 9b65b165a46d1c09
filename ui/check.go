package ui

import (
	"context"
	"fmt"
	"time"

	"mailmover/imapsrc"
	"mailmover/store"
)

// runCheck signs in, lists the folders, selects the profile's folder and counts the
// matching mail, reporting each step in words.
// TODO: use imapsrc.Check (the same check as `mailmover check`) once it is in the tree.
func runCheck(ctx context.Context, cfg imapsrc.Config, p *store.Profile) (*CheckReport, error) {
	rep := &CheckReport{}
	c, err := imapsrc.Dial(ctx, cfg)
	if err != nil {
		rep.Lines = append(rep.Lines, fmt.Sprintf("✗ Could not connect and sign in to %s:%d as %s.", cfg.Host, cfg.Port, cfg.Username))
		return rep, err
	}
	defer c.Close()
	rep.Lines = append(rep.Lines, fmt.Sprintf("✓ Connected to %s:%d (%s) and signed in as %s with %s.",
		cfg.Host, cfg.Port, c.Security(), cfg.Username, c.Mechanism()))
	folders, err := c.ListFolders(ctx)
	if err != nil {
		return rep, err
	}
	rep.Lines = append(rep.Lines, fmt.Sprintf("✓ The mailbox has %d folders.", len(folders)))
	mb := c.Selected()
	rep.Lines = append(rep.Lines, fmt.Sprintf("✓ Opened %q: %d messages.", mb.Name, mb.Messages))
	cr := imapsrc.Criteria{UnseenOnly: p.Common.Search == store.SearchUnseen, From: p.Common.From, Subject: p.Common.Subject}
	if p.Common.Since != "" {
		if t, err := time.Parse("2006-01-02", p.Common.Since); err == nil {
			cr.Since = t
		}
	}
	res, err := c.Search(ctx, cr)
	if err != nil {
		return rep, err
	}
	rep.Lines = append(rep.Lines, fmt.Sprintf("✓ %s match the filters and would be processed.", plural(len(res.UIDs), "message", "messages")))
	if p.Common.After == store.AfterMove {
		found := false
		for _, f := range folders {
			if f.Name == p.Common.MoveTo {
				found = true
			}
		}
		if !found {
			rep.Lines = append(rep.Lines, fmt.Sprintf("✗ The folder %q for \"Move to folder\" does not exist on the server.", p.Common.MoveTo))
			return rep, nil
		}
		rep.Lines = append(rep.Lines, fmt.Sprintf("✓ The folder %q for processed mail exists.", p.Common.MoveTo))
	}
	rep.OK = true
	return rep, nil
}
