package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"mailmover/auth"
	"mailmover/internal/oidcdev"
	"mailmover/store"
)

// OAuthFaults make the fault suite's profile sign in with XOAUTH2 at the test provider
// (internal/oidcdev, e.g. a cmd/mm-testprovider with its test controls) whose tokens the
// IMAP server checks by introspection, and add the token faults: access tokens made
// invalid before their announced expiry, and the refresh token revoked.
type OAuthFaults struct {
	Issuer         string // the provider, e.g. http://127.0.0.1:11980
	User, Password string // its login form's user (whose preferred_username is Server.User)
	// ClientID is the public PKCE client the profile uses; the faults end only its
	// tokens (default oidcdev.FaultsClientID, so that other tests on a shared provider
	// keep theirs).
	ClientID string
	// Secrets is where the mover reads its tokens, as `mailmover login` stores them
	// (default store.Keyring()).
	Secrets store.Secrets
	// Expiries: every access token of ClientID made invalid at once, then the
	// connections cut so that the mover signs in again: the server refuses the token,
	// the mover refreshes it once and carries on.
	Expiries int
	// Revokes: the refresh token revoked (and the access tokens ended, the connections
	// cut): the mover must pause for a new sign-in; the suite then signs in again (a
	// new token pair in Secrets) and restarts it.
	Revokes int
}

var tokenScopes = []string{"openid", "profile", "offline_access"}

func (o *OAuthFaults) defaults() {
	if o.ClientID == "" {
		o.ClientID = oidcdev.FaultsClientID
	}
	if o.Secrets == nil {
		o.Secrets = store.Keyring()
	}
	o.Issuer = strings.TrimRight(o.Issuer, "/")
}

// redirectURI is the profile's redirect: nothing listens there (the suite signs in by
// filling the login form and exchanging the code itself).
const redirectURI = "http://localhost:3017/"

func (o *OAuthFaults) config() *oauth2.Config {
	return &oauth2.Config{
		ClientID: o.ClientID,
		Endpoint: oauth2.Endpoint{AuthURL: o.Issuer + oidcdev.PathAuth, TokenURL: o.Issuer + oidcdev.PathToken,
			AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: redirectURI,
		Scopes:      tokenScopes,
	}
}

// apply makes p sign in with XOAUTH2 at the provider.
func (o *OAuthFaults) apply(p *store.Profile) {
	p.Security.Auth = store.AuthXOAuth2
	p.OAuth2 = store.OAuth2{Preset: store.PresetCustom, Flow: store.FlowAuthCode,
		AuthorizationURL: o.Issuer + oidcdev.PathAuth, TokenURL: o.Issuer + oidcdev.PathToken, ClientID: o.ClientID,
		Scope: strings.Join(tokenScopes, " "), RedirectURI: redirectURI, RedirectPort: 3017}
}

// SignIn plays `mailmover login -profile profile`: the authorization-code flow with PKCE
// through the provider's login form (filled by an HTTP client), and the tokens stored
// where the mover reads them.
func (o *OAuthFaults) SignIn(ctx context.Context, profile string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cfg := o.config()
	verifier, state := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	loc, err := oidcdev.FormLogin(ctx, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), o.User, o.Password)
	if err != nil {
		return fmt.Errorf("sign-in at %s: %w", o.Issuer, err)
	}
	q := loc.Query()
	if e := q.Get("error"); e != "" {
		return fmt.Errorf("the provider refused the sign-in: %s: %s", e, q.Get("error_description"))
	}
	if q.Get("state") != state {
		return errors.New("the provider returned a different state")
	}
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return fmt.Errorf("code exchange at %s: %w", o.Issuer, err)
	}
	if tok.RefreshToken == "" {
		return errors.New("the provider gave no refresh token")
	}
	if err := auth.SaveLogin(auth.NewSecretsTokenStore(o.Secrets, profile), tok, time.Now()); err != nil {
		return fmt.Errorf("storing the tokens of profile %s: %w", profile, err)
	}
	return nil
}

// Forget deletes the profile's stored tokens.
func (o *OAuthFaults) Forget(profile string) {
	for _, k := range []string{store.SecretRefreshToken, store.SecretAccessToken} {
		_ = o.Secrets.Delete(profile, k)
	}
}

// Log lines of the mover (`mailmover run -v`) that name the token faults.

// isTokenRefusedLine: the server refused the access token and the mover refreshes it
// (imapsrc.Dial, at level INFO).
func isTokenRefusedLine(l string) bool { return strings.Contains(l, "refused the access token") }

// signInPause advances the count n of the mover's "paused" event lines that ask for a
// new sign-in, in the line or in its advice line (which may come a few lines later: the
// diagnostic log of `run -v` shares the file). pending is the number of lines left in
// which a paused line's advice may come; it returns the new one.
func signInPause(l string, pending int, n *int) int {
	f := strings.Fields(l)
	isPaused := len(f) > 2 && f[2] == "paused"
	signIn := strings.Contains(strings.ToLower(l), "sign in")
	switch {
	case isPaused && signIn:
		*n++
		return 0
	case isPaused:
		return 4
	case pending > 0 && len(f) > 0 && f[0] == "advice:":
		if signIn {
			*n++
		}
		return 0
	case pending > 0:
		return pending - 1
	}
	return 0
}
