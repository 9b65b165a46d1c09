package localeenv

import (
	"os"
	"testing"
)

func TestNormalize(t *testing.T) {
	cases := []struct {
		lcAll, lang, language, want string
	}{
		{"", "C.UTF-8", "", "en"},
		{"POSIX.UTF-8", "de_DE.UTF-8", "", "en"},
		{"", "C", "", ""},
		{"", "de_DE.UTF-8", "", ""},
		{"", "C.UTF-8", "de", "de"},
		{"de_DE.UTF-8", "C.UTF-8", "", ""},
	}
	for _, c := range cases {
		t.Setenv("LC_ALL", c.lcAll)
		t.Setenv("LC_MESSAGES", "")
		t.Setenv("LANG", c.lang)
		t.Setenv("LANGUAGE", c.language)
		Normalize()
		if got := os.Getenv("LANGUAGE"); got != c.want {
			t.Errorf("LC_ALL=%q LANG=%q LANGUAGE=%q: LANGUAGE became %q, want %q", c.lcAll, c.lang, c.language, got, c.want)
		}
	}
}
