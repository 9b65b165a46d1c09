package alert

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScrub(t *testing.T) {
	cases := map[string]string{
		"AUTHENTICATE failed: Bearer eyJhbGciOiJSUzI1NiJ9abc.def":                   "AUTHENTICATE failed: Bearer [hidden]",
		"Authorization: Basic dXNlcjpwYXNzd29yZA==":                                 "Authorization: Basic [hidden]",
		"user=u@example.com\x01auth=Bearer ya29.a0AfH6SMBx3\x01\x01":                "user=u@example.com auth=Bearer [hidden]  ",
		`token endpoint said {"access_token": "at-123", "refresh_token":"rt-456"}`:  `token endpoint said {"access_token": "[hidden]", "refresh_token":"[hidden]"}`,
		"POST grant_type=refresh_token&refresh_token=0.AXo-secret&client_secret=cs": "POST grant_type=refresh_token&refresh_token=[hidden]&client_secret=[hidden]",
		"http://localhost:3017/?code=abc123&state=xyz":                              "http://localhost:3017/?code=[hidden]&state=xyz",
		"dial https://bob:hunter2@proxy.example.com:8080":                           "dial https://[hidden]@proxy.example.com:8080",
		"token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sflKxwRJSMeKKF2QT4": "token [hidden]",
		"posting to https://hooks.slack.com/services/T0/B0/XXXX failed":             "posting to https://hooks.slack.com/[hidden] failed",
		"https://prod-12.westeurope.logic.azure.com:443/workflows/1/triggers?sig=S": "https://prod-12.westeurope.logic.azure.com/[hidden]",
		"password = \"hunter2\"":      "password = \"[hidden]\"",
		"line one\nline\ttwo\x1b[31m": "line one\nline two [31m",
	}
	for in, want := range cases {
		if got := Scrub(in); got != want {
			t.Errorf("Scrub(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

// Scrub leaves MailMover's own texts as they are: every English and German text of the
// engine (errors, advice, reasons) passes unchanged, so that an alert reads as the log.
func TestScrubKeepsTheTexts(t *testing.T) {
	names, _ := filepath.Glob(filepath.Join("..", "i18n", "translations", "*.json"))
	if len(names) == 0 {
		t.Fatal("no translation files")
	}
	n := 0
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		for k, v := range m {
			for _, s := range []string{k, v} {
				if got := Scrub(s); got != strings.ReplaceAll(strings.ReplaceAll(s, "\t", " "), "\r", " ") {
					t.Errorf("%s: Scrub changes %q to %q", filepath.Base(name), s, got)
				}
				n++
			}
		}
	}
	if n < 500 {
		t.Errorf("only %d texts", n)
	}
}
