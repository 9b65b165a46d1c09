package mover

import (
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"mailmover/auth"
	"mailmover/store"
)

// TestLapseWarningOnStart: the mover warns on start when the refresh token nears the
// provider's known lapse, and says nothing when it is fresh or the profile uses a
// password.
func TestLapseWarningOnStart(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		preset   string
		authKind string
		lastUsed time.Duration // before now; 0: no tokens stored
		want     string        // substring of the warning; "" = no warning
	}{
		{"microsoft near the lapse", store.PresetMicrosoft, store.AuthXOAuth2, 80 * auth.Day, "lapses around 2026-12-08"},
		{"microsoft lapsed", store.PresetMicrosoft, store.AuthXOAuth2, 95 * auth.Day, "has most likely lapsed"},
		{"microsoft fresh", store.PresetMicrosoft, store.AuthXOAuth2, 3 * auth.Day, ""},
		{"google testing app near 7 days", store.PresetGoogle, store.AuthOAuthBearer, 6 * auth.Day, "Testing"},
		{"no tokens", store.PresetMicrosoft, store.AuthXOAuth2, 0, ""},
		{"password sign-in", store.PresetMicrosoft, store.AuthPassword, 95 * auth.Day, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			p := h.prof
			p.Security.Auth = tc.authKind
			if err := auth.ApplyPreset(&p.OAuth2, tc.preset, "organizations"); err != nil {
				t.Fatal(err)
			}
			p.OAuth2.ClientID = "11111111-2222-3333-4444-555555555555"
			sec := store.NewMemorySecrets()
			if tc.lastUsed > 0 {
				tok := &oauth2.Token{AccessToken: "at-secret", RefreshToken: "rt-secret", Expiry: now.Add(-time.Hour)}
				if err := auth.SaveLogin(auth.NewSecretsTokenStore(sec, p.Name), tok, now.Add(-tc.lastUsed)); err != nil {
					t.Fatal(err)
				}
			}
			events := make(chan Event, 256)
			m, err := New(Options{Profile: p, Home: h.home, Dial: h.srv.dial, Events: events, NoLogFile: true,
				Secrets: sec, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			if err := m.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			close(events)
			var warn *Event
			for ev := range events {
				if strings.Contains(ev.Text+ev.Advice, "secret") {
					t.Errorf("a token value in an event: %+v", ev)
				}
				if ev.Kind == KindWarning && strings.HasPrefix(ev.Text, "sign-in: ") {
					e := ev
					warn = &e
				}
				if ev.Kind == KindConnecting && warn == nil && tc.want != "" {
					t.Errorf("the lapse warning did not come before connecting")
				}
			}
			switch {
			case tc.want == "" && warn != nil:
				t.Fatalf("unexpected warning %q", warn.Text)
			case tc.want != "" && warn == nil:
				t.Fatalf("no lapse warning, want one containing %q", tc.want)
			case tc.want != "" && (!strings.Contains(warn.Text, tc.want) || !strings.Contains(warn.Advice, "mailmover login -profile test")):
				t.Fatalf("warning %q / advice %q, want %q", warn.Text, warn.Advice, tc.want)
			}
		})
	}
}
