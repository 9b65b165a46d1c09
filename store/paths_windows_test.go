package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWindowsPaths: on Windows, destinations and CA files with drive letters, UNC paths
// and "~\" are accepted; paths without a drive (\in, C:in) and relative ones are not;
// "~" is the user profile and the config home is under %AppData%. (Run under Wine by
// winetest.TestWindowsUnitTestsUnderWine.)
func TestWindowsPaths(t *testing.T) {
	for p, ok := range map[string]bool{
		`C:\in`: true, `c:/in`: true, `\\server\share\in`: true, `\\?\C:\very\long`: true,
		`~\in`: true, `~/in`: true, `~`: true,
		`\in`: false, `C:in`: false, `in`: false, `.\in`: false, `/in`: false,
	} {
		if got := pathIsAcceptable(p); got != ok {
			t.Errorf("pathIsAcceptable(%q) = %v, want %v", p, got, ok)
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ExpandPath(`~\in\invoices`); err != nil || got != filepath.Join(home, "in", "invoices") {
		t.Errorf(`ExpandPath(~\in\invoices) = %q, %v; want under %s`, got, err, home)
	}
	if got, err := ExpandPath(`\\server\share\in`); err != nil || got != `\\server\share\in` {
		t.Errorf(`ExpandPath(\\server\share\in) = %q, %v`, got, err)
	}
	if _, err := ExpandPath(`\in`); err == nil || !strings.Contains(err.Error(), `C:\mail-in`) {
		t.Errorf(`ExpandPath(\in) = %v, want an error that shows a path with a drive`, err)
	}
	appData := os.Getenv("APPDATA")
	got, err := HomeFrom(func(string) string { return "" })
	if err != nil || appData == "" || !strings.EqualFold(got, filepath.Join(appData, "mailmover")) {
		t.Errorf("HomeFrom = %q, %v; want %%AppData%%\\mailmover (%s)", got, err, appData)
	}
}
