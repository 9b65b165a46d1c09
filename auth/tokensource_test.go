package auth

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"mailmover/store"
)

// countingSecrets counts Set calls per kind.
type countingSecrets struct {
	*store.MemorySecrets
	mu   sync.Mutex
	sets map[string]int
}

func newCountingSecrets() *countingSecrets {
	return &countingSecrets{MemorySecrets: store.NewMemorySecrets(), sets: map[string]int{}}
}

func (c *countingSecrets) Set(profile, kind, value string) error {
	c.mu.Lock()
	c.sets[kind]++
	c.mu.Unlock()
	return c.MemorySecrets.Set(profile, kind, value)
}

func (c *countingSecrets) count(kind string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sets[kind]
}

// signedIn stores a refresh token (live at p) and an access token expiring at expiry.
func signedIn(t *testing.T, p *fakeProvider, sec store.Secrets, expiry time.Time) string {
	t.Helper()
	rt := "rt-initial-secret-value"
	p.addRefresh(rt)
	st := NewSecretsTokenStore(sec, "p1")
	now := time.Now()
	if err := SaveLogin(st, &oauth2.Token{AccessToken: "at-initial", TokenType: "Bearer", RefreshToken: rt, Expiry: expiry}, now); err != nil {
		t.Fatal(err)
	}
	return rt
}

func newSource(p *fakeProvider, sec store.Secrets) *TokenSource {
	ts := NewTokenSource(p.config("http://127.0.0.1:0/"), NewSecretsTokenStore(sec, "p1"))
	ts.Profile, ts.Logger = "p1", quiet
	return ts
}

func TestTokenSourceUsesValidToken(t *testing.T) {
	p := newFakeProvider(t)
	sec := store.NewMemorySecrets()
	signedIn(t, p, sec, time.Now().Add(time.Hour))
	at, err := newSource(p, sec).AccessToken(context.Background(), false)
	if err != nil || at != "at-initial" {
		t.Fatalf("AccessToken = %q, %v", at, err)
	}
	if _, r, _ := p.counts(); r != 0 {
		t.Fatalf("%d refreshes for a valid token", r)
	}
}

func TestTokenSourceRefreshesAheadAndSavesRotation(t *testing.T) {
	p := newFakeProvider(t)
	sec := newCountingSecrets()
	old := signedIn(t, p, sec, time.Now().Add(time.Minute)) // within EarlyRefresh
	ts := newSource(p, sec)
	at, err := ts.AccessToken(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if at == "at-initial" || !strings.HasPrefix(at, "at-") {
		t.Fatalf("AccessToken = %q, want a refreshed one", at)
	}
	rt, _ := sec.Get("p1", store.SecretRefreshToken)
	if rt == old || !strings.HasPrefix(rt, "rt-") {
		t.Fatalf("rotated refresh token not saved (have %q)", rt)
	}
	raw, _ := sec.Get("p1", store.SecretAccessToken)
	var rec accessRecord
	if err := json.Unmarshal([]byte(raw), &rec); err != nil || rec.AccessToken != at || rec.LastRefresh.IsZero() {
		t.Fatalf("access record = %q (%v)", raw, err)
	}
	if ts.LastRefresh().IsZero() || time.Since(ts.LastRefresh()) > time.Minute {
		t.Fatalf("LastRefresh = %v", ts.LastRefresh())
	}
	// A second call uses the new token without refreshing or saving again.
	sets := sec.count(store.SecretRefreshToken) + sec.count(store.SecretAccessToken)
	at2, err := ts.AccessToken(context.Background(), false)
	if err != nil || at2 != at {
		t.Fatalf("second AccessToken = %q, %v", at2, err)
	}
	if _, r, _ := p.counts(); r != 1 {
		t.Fatalf("%d refreshes, want 1", r)
	}
	if now := sec.count(store.SecretRefreshToken) + sec.count(store.SecretAccessToken); now != sets {
		t.Fatalf("saved again without a change (%d → %d sets)", sets, now)
	}
}

func TestTokenSourceForceRefresh(t *testing.T) {
	p := newFakeProvider(t)
	sec := store.NewMemorySecrets()
	signedIn(t, p, sec, time.Now().Add(time.Hour))
	ts := newSource(p, sec)
	at, err := ts.AccessToken(context.Background(), true)
	if err != nil || at == "at-initial" {
		t.Fatalf("forced AccessToken = %q, %v", at, err)
	}
	// A second forced call right after (another connection refused the old token) does
	// not refresh again.
	at2, err := ts.AccessToken(context.Background(), true)
	if err != nil || at2 != at {
		t.Fatalf("second forced AccessToken = %q, %v", at2, err)
	}
	if _, r, _ := p.counts(); r != 1 {
		t.Fatalf("%d refreshes, want 1", r)
	}
}

// Renew replaces exactly the refused token: a token refused right after its refresh is
// refreshed again (AccessToken's forced refresh would hand it back within forceWindow),
// and a valid token other than the refused one is handed out without a refresh.
func TestTokenSourceRenewReplacesTheRefusedToken(t *testing.T) {
	p := newFakeProvider(t)
	sec := store.NewMemorySecrets()
	signedIn(t, p, sec, time.Now().Add(time.Hour))
	ts := newSource(p, sec)
	ctx := context.Background()
	fresh, err := ts.Renew(ctx, "at-initial")
	if err != nil || fresh == "at-initial" {
		t.Fatalf("Renew(at-initial) = %q, %v", fresh, err)
	}
	// The server refuses the fresh token at once: Renew refreshes again.
	again, err := ts.Renew(ctx, fresh)
	if err != nil || again == fresh || again == "at-initial" {
		t.Fatalf("Renew(fresh) = %q, %v; want a third token", again, err)
	}
	// Another connection still holding the first fresh token, refused: the current one
	// is another valid token, so no refresh.
	cur, err := ts.Renew(ctx, fresh)
	if err != nil || cur != again {
		t.Fatalf("Renew(old) = %q, %v; want %q", cur, err, again)
	}
	if _, r, _ := p.counts(); r != 2 {
		t.Fatalf("%d refreshes, want 2", r)
	}
}

func TestTokenSourceRereadsStoreBeforeRefreshing(t *testing.T) {
	p := newFakeProvider(t)
	sec := store.NewMemorySecrets()
	signedIn(t, p, sec, time.Now().Add(time.Minute))
	a := newSource(p, sec)
	b := newSource(p, sec) // another process sharing the keyring
	if _, err := a.AccessToken(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	// b loaded nothing yet; make it load the old state first.
	b.mu.Lock()
	b.cur = Stored{Token: &oauth2.Token{AccessToken: "at-initial", RefreshToken: "rt-initial-secret-value", Expiry: time.Now().Add(time.Minute)}}
	b.loaded = true
	b.mu.Unlock()
	// The old refresh token is dead at the provider (rotated); b must pick up a's.
	at, err := b.AccessToken(context.Background(), false)
	if err != nil {
		t.Fatalf("b.AccessToken: %v (did not re-read the store)", err)
	}
	aat, _ := a.AccessToken(context.Background(), false)
	if at != aat {
		t.Fatalf("b got %q, want a's saved token %q", at, aat)
	}
	if _, r, _ := p.counts(); r != 1 {
		t.Fatalf("%d refreshes, want 1", r)
	}
}

func TestTokenSourceInvalidGrantIsReauth(t *testing.T) {
	p := newFakeProvider(t)
	sec := store.NewMemorySecrets()
	rt := signedIn(t, p, sec, time.Now().Add(-time.Minute))
	p.mu.Lock()
	delete(p.refresh, rt) // lapsed
	p.mu.Unlock()
	_, err := newSource(p, sec).AccessToken(context.Background(), false)
	var re *ReauthError
	if !errors.As(err, &re) || re.Code != "invalid_grant" || !strings.Contains(re.Description, "AADSTS700082") {
		t.Fatalf("err = %v, want *ReauthError", err)
	}
	text, advice := DescribeError(err)
	if !strings.Contains(text, "sign in again") || !strings.Contains(text, "mailmover login -profile p1") || !strings.Contains(advice, "90 days") {
		t.Fatalf("text %q advice %q", text, advice)
	}
	if strings.Contains(text, rt) || strings.Contains(advice, rt) {
		t.Fatal("the refresh token appears in the error text")
	}
}

func TestTokenSourceOtherRefusalIsTokenError(t *testing.T) {
	p := newFakeProvider(t)
	sec := store.NewMemorySecrets()
	rt := signedIn(t, p, sec, time.Now().Add(-time.Minute))
	p.tokenError, p.tokenErrDesc = "temporarily_unavailable", "try later"
	_, err := newSource(p, sec).AccessToken(context.Background(), false)
	var te *TokenError
	var re *ReauthError
	if !errors.As(err, &te) || errors.As(err, &re) || te.Status != 400 {
		t.Fatalf("err = %v, want a *TokenError only", err)
	}
	if strings.Contains(err.Error(), rt) {
		t.Fatal("token in error text")
	}
}

func TestTokenSourceNotSignedIn(t *testing.T) {
	p := newFakeProvider(t)
	_, err := newSource(p, store.NewMemorySecrets()).AccessToken(context.Background(), false)
	var re *ReauthError
	if !errors.As(err, &re) || !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("err = %v, want ErrNotSignedIn", err)
	}
}

func TestTokenSourceKeyringUnavailable(t *testing.T) {
	p := newFakeProvider(t)
	sec := store.NewMemorySecrets()
	sec.SetUnavailable(true)
	_, err := newSource(p, sec).AccessToken(context.Background(), false)
	var ku *store.KeyringUnavailableError
	if !errors.As(err, &ku) {
		t.Fatalf("err = %v, want the keyring error", err)
	}
}

func TestTokenSourceConcurrentRefreshOnce(t *testing.T) {
	p := newFakeProvider(t)
	p.refreshDelay = 100 * time.Millisecond
	sec := store.NewMemorySecrets()
	signedIn(t, p, sec, time.Now().Add(-time.Minute))
	ts := newSource(p, sec)
	var wg sync.WaitGroup
	var failures atomic.Int32
	tokens := make(chan string, 20)
	for range 20 {
		wg.Go(func() {
			at, err := ts.AccessToken(context.Background(), false)
			if err != nil {
				failures.Add(1)
			}
			tokens <- at
		})
	}
	wg.Wait()
	close(tokens)
	if failures.Load() != 0 {
		t.Fatalf("%d calls failed", failures.Load())
	}
	first := ""
	for at := range tokens {
		if first == "" {
			first = at
		}
		if at != first {
			t.Fatalf("callers got different tokens %q and %q", first, at)
		}
	}
	if _, r, _ := p.counts(); r != 1 {
		t.Fatalf("%d refreshes for 20 concurrent callers, want 1", r)
	}
}

func TestTokenSourceLargeAccessTokenKeptInMemory(t *testing.T) {
	p := newFakeProvider(t)
	sec := store.NewMemorySecrets()
	signedIn(t, p, sec, time.Now().Add(-time.Minute))
	sec.SetMaxSize(40) // refresh tokens fit; the access record does not
	ts := newSource(p, sec)
	at, err := ts.AccessToken(context.Background(), false)
	if err != nil {
		t.Fatalf("AccessToken with a small keyring: %v", err)
	}
	rt, _ := sec.Get("p1", store.SecretRefreshToken)
	if rt == "rt-initial-secret-value" {
		t.Fatal("the rotated refresh token was not saved")
	}
	raw, _ := sec.Get("p1", store.SecretAccessToken)
	if strings.Contains(raw, at) {
		t.Fatalf("access token stored although the keyring refused it: %q", raw)
	}
	// The same process still has it.
	if at2, err := ts.AccessToken(context.Background(), false); err != nil || at2 != at {
		t.Fatalf("second call = %q, %v", at2, err)
	}
	if _, r, _ := p.counts(); r != 1 {
		t.Fatalf("%d refreshes, want 1", r)
	}
}

func TestSecretsTokenStoreRoundTrip(t *testing.T) {
	sec := store.NewMemorySecrets()
	st := NewSecretsTokenStore(sec, "p1")
	if got, err := st.Load(); err != nil || got.Token != nil {
		t.Fatalf("empty Load = %+v, %v", got, err)
	}
	now := time.Now().Round(time.Second)
	tok := &oauth2.Token{AccessToken: "a", TokenType: "Bearer", RefreshToken: "r", Expiry: now.Add(time.Hour)}
	if err := st.Save(Stored{Token: tok, Issued: now, LastRefresh: now}); err != nil {
		t.Fatal(err)
	}
	got, err := NewSecretsTokenStore(sec, "p1").Load()
	if err != nil || got.Token.AccessToken != "a" || got.Token.RefreshToken != "r" || !got.Token.Expiry.Equal(tok.Expiry) || !got.Issued.Equal(now) {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	if err := sec.Set("p1", store.SecretAccessToken, "{not json"); err != nil {
		t.Fatal(err)
	}
	got, err = NewSecretsTokenStore(sec, "p1").Load()
	if err != nil || got.Token == nil || got.Token.RefreshToken != "r" || got.Token.AccessToken != "" {
		t.Fatalf("Load with a broken record = %+v, %v", got, err)
	}
}

func TestNewTokenSourceForProfile(t *testing.T) {
	p := newFakeProvider(t)
	sec := store.NewMemorySecrets()
	o := store.OAuth2{Preset: "custom", Flow: "authcode", ClientID: p.clientID, AuthorizationURL: p.srv.URL + "/authorize",
		TokenURL: p.srv.URL + "/token", Scope: "imap offline_access", RedirectURI: "http://localhost:3017/", RedirectPort: 3017}
	src, err := NewTokenSourceForProfile("p1", o, sec, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := src.(*TokenSource); !ok {
		t.Fatalf("authcode gave %T", src)
	}
	o.Flow = "client_credentials"
	if _, err := NewTokenSourceForProfile("p1", o, sec, quiet); err == nil || !strings.Contains(err.Error(), "client-secret") {
		t.Fatalf("client_credentials without secret: %v", err)
	}
	if err := sec.Set("p1", store.SecretClientSecret, "s3cret"); err != nil {
		t.Fatal(err)
	}
	p.secret = "s3cret"
	src, err = NewTokenSourceForProfile("p1", o, sec, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := src.(*ClientCredentialsSource); !ok {
		t.Fatalf("client_credentials gave %T", src)
	}
	if at, err := src.AccessToken(context.Background(), false); err != nil || at == "" {
		t.Fatalf("client credentials token: %q, %v", at, err)
	}
}

// staleStore returns a stale copy for the first n Loads, then the real store's content.
type staleStore struct {
	TokenStore
	mu    sync.Mutex
	stale Stored
	n     int
}

func (s *staleStore) Load() (Stored, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n > 0 {
		s.n--
		return s.stale, nil
	}
	return s.TokenStore.Load()
}

func TestTokenSourceLostRotationRaceRecovers(t *testing.T) {
	p := newFakeProvider(t)
	sec := store.NewMemorySecrets()
	signedIn(t, p, sec, time.Now().Add(-time.Minute))
	real := NewSecretsTokenStore(sec, "p1")
	stale, err := real.Load()
	if err != nil {
		t.Fatal(err)
	}
	// Another process refreshes first (rotating the refresh token)…
	other := newSource(p, sec)
	if _, err := other.AccessToken(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	// …while this one still read the old state when it started.
	ts := NewTokenSource(p.config("http://127.0.0.1:0/"), &staleStore{TokenStore: real, stale: stale, n: 1})
	ts.Logger = quiet
	at, err := ts.AccessToken(context.Background(), true)
	if err != nil {
		t.Fatalf("AccessToken after a lost rotation race: %v", err)
	}
	if at == "at-initial" || at == "" {
		t.Fatalf("AccessToken = %q", at)
	}
}
