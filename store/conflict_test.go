package store

import (
	"strings"
	"testing"
)

func TestOverwriteWithDeleteIsRefused(t *testing.T) {
	for _, c := range []struct {
		conflict, after string
		bad             bool
	}{
		{ConflictOverwrite, AfterDelete, true},
		{ConflictOverwrite, AfterMove, false},
		{ConflictOverwrite, AfterSeen, false},
		{ConflictSkip, AfterDelete, false},
		{ConflictRename, AfterDelete, false},
	} {
		p := DefaultProfile("p")
		p.Setup.Host, p.Setup.Username = "imap.example.com", "u@example.com"
		p.Security.Auth = AuthPassword
		p.Destination.Folder = "/srv/in"
		p.Destination.OnConflict, p.Common.After = c.conflict, c.after
		if c.after == AfterMove {
			p.Common.MoveTo = "Done"
		}
		err := p.Validate()
		if c.bad != (err != nil && strings.Contains(err.Error(), "destination.on_conflict")) {
			t.Errorf("on_conflict %s, after %s: %v", c.conflict, c.after, err)
		}
	}
	// From a file, the error names the key.
	_, err := ParseProfile("p", []byte("[setup]\nhost = \"h\"\nusername = \"u\"\n[security]\nauth = \"password\"\n[common]\nafter = \"delete\"\n[destination]\nfolder = \"/srv/in\"\non_conflict = \"overwrite\"\n"))
	if err == nil || !strings.Contains(err.Error(), "on_conflict") {
		t.Errorf("ParseProfile: %v", err)
	}
}
