package demo

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"mailmover/auth"
	"mailmover/store"
)

var tomlBlock = regexp.MustCompile("(?s)```toml\n(.*?)```")

// TestGuideProfilesParse keeps the guides honest: every TOML profile in docs/*.md must
// load as a profile (the strict parser: no unknown keys, valid values) and get no scope
// warning.
func TestGuideProfilesParse(t *testing.T) {
	guides, err := filepath.Glob(filepath.Join("..", "docs", "*.md"))
	if err != nil || len(guides) == 0 {
		t.Fatalf("no guides found in ../docs: %v", err)
	}
	total := 0
	for _, g := range guides {
		data, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range tomlBlock.FindAllSubmatch(data, -1) {
			total++
			p, err := store.ParseProfile("guide", m[1])
			if err != nil {
				t.Errorf("%s, profile %d: %v\n%s", filepath.Base(g), i+1, err, m[1])
				continue
			}
			if w := auth.ScopeWarning(p.OAuth2); w != "" {
				t.Errorf("%s, profile %d: scope warning: %s", filepath.Base(g), i+1, w)
			}
		}
	}
	if total < 3 {
		t.Errorf("found %d TOML profiles in the guides, want at least 3 (Microsoft delegated, app-only, Gmail)", total)
	}
}
