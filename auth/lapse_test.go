package auth

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"mailmover/store"
)

func TestLapseWarning(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		preset string
		ago    time.Duration
		want   string
	}{
		{"microsoft", 10 * Day, ""},
		{"microsoft", 75 * Day, ""},
		{"microsoft", 77 * Day, "lapses around 2026-12-11"},
		{"microsoft", 91 * Day, "has most likely lapsed"},
		{"google", 91 * Day, ""},
		{"custom", 200 * Day, ""},
	}
	for _, tc := range tests {
		got := LapseWarning(tc.preset, now.Add(-tc.ago), now)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s %v: %q, want %q", tc.preset, tc.ago, got, tc.want)
		}
	}
	if LapseWarning("microsoft", time.Time{}, now) != "" {
		t.Error("warning for an unknown last use")
	}
}

func TestSignInAgeWarning(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		ago  time.Duration
		warn bool
	}{{1 * Day, false}, {5 * Day, true}, {7 * Day, true}, {9 * Day, false}} {
		got := SignInAgeWarning("google", now.Add(-tc.ago), now)
		if (got != "") != tc.warn || (tc.warn && !strings.Contains(got, "Testing")) {
			t.Errorf("%v: %q", tc.ago, got)
		}
	}
	if SignInAgeWarning("microsoft", now.Add(-6*Day), now) != "" {
		t.Error("google rule applied to microsoft")
	}
}

func TestLapseWarningForProfile(t *testing.T) {
	sec := store.NewMemorySecrets()
	o := store.OAuth2{Preset: "microsoft", Flow: "authcode"}
	now := time.Now()
	if w := LapseWarningForProfile("p", o, sec, now); w != "" {
		t.Fatalf("warning with nothing stored: %q", w)
	}
	old := now.Add(-85 * Day)
	if err := SaveLogin(NewSecretsTokenStore(sec, "p"), &oauth2.Token{RefreshToken: "r"}, old); err != nil {
		t.Fatal(err)
	}
	if w := LapseWarningForProfile("p", o, sec, now); !strings.Contains(w, "85 days ago") {
		t.Fatalf("warning = %q", w)
	}
	o.Flow = "client_credentials"
	if w := LapseWarningForProfile("p", o, sec, now); w != "" {
		t.Fatalf("warning for client credentials: %q", w)
	}
}
