package demo

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
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
			if regexp.MustCompile(`(?m)^\s*\[alerts[\].]`).Match(m[1]) {
				// HOME/mailmover.toml, not a profile: its own strict parser. A part
				// of it (a receiver alone) is checked under an [alerts] table.
				if _, err := store.ParseSettings(m[1]); err != nil {
					t.Errorf("%s, settings block %d: %v\n%s", filepath.Base(g), i+1, err, m[1])
				}
				continue
			}
			total++
			// A fragment (an indented block in a list of steps: some keys of a profile)
			// must use only known keys and good values; the keys it leaves out may be
			// missing.
			fragment := regexp.MustCompile(`^\s+\[`).Match(m[1])
			p, err := store.ParseProfile("guide", m[1])
			if fragment && err != nil {
				var real []error
				for _, fe := range store.FieldErrors(err) {
					if !strings.HasPrefix(fe.Msg, "is empty") {
						real = append(real, fe)
					}
				}
				if err = errors.Join(real...); err == nil {
					continue
				}
			}
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
