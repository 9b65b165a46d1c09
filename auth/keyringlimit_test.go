package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"mailmover/store"
)

// The Windows Credential Manager (and the macOS Keychain) refuse large secrets. The access
// token is then kept in memory only: each new process refreshes first, and the rotated
// refresh token is saved at once, so the next process can refresh again.
func TestEachNewProcessRefreshesWhenTheAccessTokenIsTooLarge(t *testing.T) {
	p := newFakeProvider(t)
	sec := store.NewMemorySecrets()
	signedIn(t, p, sec, time.Now().Add(-time.Minute))
	sec.SetMaxSize(40) // refresh tokens fit; the access record (with the token) does not
	prevRT, _ := sec.Get("p1", store.SecretRefreshToken)
	seen := map[string]bool{}
	for proc := 1; proc <= 3; proc++ {
		ts := newSource(p, sec) // a new process: a new source and store, the same keyring
		at, err := ts.AccessToken(context.Background(), false)
		if err != nil {
			t.Fatalf("process %d: AccessToken: %v", proc, err)
		}
		if seen[at] {
			t.Fatalf("process %d got an access token an earlier process had", proc)
		}
		seen[at] = true
		if _, r, _ := p.counts(); r != proc {
			t.Fatalf("process %d: %d refreshes in all, want %d (one per process)", proc, r, proc)
		}
		rt, _ := sec.Get("p1", store.SecretRefreshToken)
		if rt == prevRT {
			t.Fatalf("process %d: the rotated refresh token was not saved", proc)
		}
		prevRT = rt
		if raw, _ := sec.Get("p1", store.SecretAccessToken); strings.Contains(raw, at) {
			t.Fatalf("process %d: the access token was stored although the keyring refused it", proc)
		}
		// Within the process the token is kept: no second refresh.
		if again, err := ts.AccessToken(context.Background(), false); err != nil || again != at {
			t.Fatalf("process %d: second call = %v, want the same token", proc, err)
		}
	}
}

// A refresh token larger than the keyring holds is not split: signing in fails with an
// error that names the account and the size, says what to do, and never shows the token.
func TestRefreshTokenTooLargeIsAClearError(t *testing.T) {
	sec := store.NewMemorySecrets()
	sec.SetMaxSize(10)
	const rt = "rt-much-longer-than-ten-bytes"
	err := SaveLogin(NewSecretsTokenStore(sec, "p1"), &oauth2.Token{AccessToken: "at", RefreshToken: rt, Expiry: time.Now().Add(time.Hour)}, time.Now())
	var tl *store.SecretTooLargeError
	if !errors.As(err, &tl) || tl.Account != "p1/refresh-token" || tl.Size != len(rt) {
		t.Fatalf("SaveLogin = %v, want a SecretTooLargeError for p1/refresh-token of %d bytes", err, len(rt))
	}
	msg := err.Error()
	if strings.Contains(msg, rt) {
		t.Fatalf("the refresh token shows in the error: %s", msg)
	}
	for _, want := range []string{"p1", "29 bytes", "2560 bytes", "client-credentials"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the error does not say %q: %s", want, msg)
		}
	}
	if got, _ := sec.Get("p1", store.SecretRefreshToken); got != "" {
		t.Errorf("a part of the refresh token was stored: %q", got)
	}
}
