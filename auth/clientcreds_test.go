package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

func ccSource(p *fakeProvider) *ClientCredentialsSource {
	cfg := p.config("")
	cfg.Flow, cfg.ClientSecret, cfg.Scopes = "client_credentials", "s3cret", []string{"https://outlook.office365.com/.default"}
	p.secret = "s3cret"
	s := NewClientCredentialsSource(cfg)
	s.Logger = quiet
	return s
}

func TestClientCredentialsCachesAndRenews(t *testing.T) {
	p := newFakeProvider(t)
	s := ccSource(p)
	now := time.Now()
	s.now = func() time.Time { return now }
	a1, err := s.AccessToken(context.Background(), false)
	if err != nil || a1 == "" {
		t.Fatalf("AccessToken = %q, %v", a1, err)
	}
	p.mu.Lock()
	form := p.lastForm
	p.mu.Unlock()
	if form.Get("grant_type") != "client_credentials" || form.Get("scope") != "https://outlook.office365.com/.default" || form.Get("client_secret") != "s3cret" {
		t.Fatalf("token form = %v", form)
	}
	if a2, _ := s.AccessToken(context.Background(), false); a2 != a1 {
		t.Fatal("a valid token was not reused")
	}
	// Close to expiry (within EarlyRefresh): a new one.
	now = now.Add(time.Hour - time.Minute)
	a3, err := s.AccessToken(context.Background(), false)
	if err != nil || a3 == a1 {
		t.Fatalf("near expiry AccessToken = %q, %v", a3, err)
	}
	if _, _, cc := p.counts(); cc != 2 {
		t.Fatalf("%d client-credentials requests, want 2", cc)
	}
}

func TestClientCredentialsForce(t *testing.T) {
	p := newFakeProvider(t)
	s := ccSource(p)
	now := time.Now()
	s.now = func() time.Time { return now }
	a1, err := s.AccessToken(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	// Forced right after a fetch (several connections refused the old token): no new fetch.
	if a2, _ := s.AccessToken(context.Background(), true); a2 != a1 {
		t.Fatal("forced right after a fetch fetched again")
	}
	now = now.Add(10 * time.Second)
	if a3, _ := s.AccessToken(context.Background(), true); a3 == a1 {
		t.Fatal("forced did not fetch a new token")
	}
	if _, _, cc := p.counts(); cc != 2 {
		t.Fatalf("%d client-credentials requests, want 2", cc)
	}
}

func TestClientCredentialsWrongSecret(t *testing.T) {
	p := newFakeProvider(t)
	s := ccSource(p)
	p.secret = "other"
	_, err := s.AccessToken(context.Background(), false)
	var te *TokenError
	if !errors.As(err, &te) || te.Code != "invalid_client" || te.Op != "client credentials" {
		t.Fatalf("err = %v", err)
	}
}
