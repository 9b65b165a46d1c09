package store

import "mailmover/i18n"

// validateConflict refuses the one combination of on_conflict and after that would lose
// a file's content without the user seeing it: "overwrite" replaces a file in the
// destination, and with after = "delete" the mail that brought the replaced file is
// already gone, so its content would exist nowhere. (With "seen", "none" or "move" that
// mail is still on the server; "rename" and "skip" never replace a file, and a message
// with a file skipped for other content stays in the mailbox — see package mover.)
func (p *Profile) validateConflict(c *checker) {
	if p.Destination.OnConflict == ConflictOverwrite && p.Common.After == AfterDelete {
		c.add("destination.on_conflict", i18n.T(`"overwrite" with common.after = "delete" would replace files whose mail is already deleted, so their content would be lost; use "rename" (keeps both) or "skip", or after = "move" (the replaced file's mail stays in common.move_to)`))
	}
}
