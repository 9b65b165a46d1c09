package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"mailmover/i18n"
	"mailmover/store"
)

// ClientCredentialsSource hands out app-only access tokens: OAuth2 client credentials
// (flow = "client_credentials") with the client secret or a certificate's signed
// assertion (RFC 7523 section 2.2, private_key_jwt), or a Google service account's JWT
// bearer grant (flow = "service_account", RFC 7523 section 2.1). It keeps
// the token in memory and gets a new one EarlyRefresh before expiry. There is no refresh
// token and nothing is stored. Safe for concurrent use.
type ClientCredentialsSource struct {
	// Logger receives progress (never a token); nil means slog.Default(). Set before
	// first use.
	Logger *slog.Logger
	// EarlyRefresh is how long before expiry to fetch a new token; 0 means
	// DefaultEarlyRefresh.
	EarlyRefresh time.Duration

	// Profile is the profile's name, for the commands errors name (may be empty).
	Profile string

	cfg Config
	now func() time.Time

	mu        sync.Mutex
	tok       *oauth2.Token
	fetchedAt time.Time
}

// NewClientCredentialsSource returns a source for cfg: client credentials with
// ClientSecret or ClientCert, or (flow = "service_account") the JWT bearer grant with
// ServiceAccount.
func NewClientCredentialsSource(cfg Config) *ClientCredentialsSource {
	return &ClientCredentialsSource{cfg: cfg, now: time.Now}
}

// AccessToken returns a valid app-only token; forceRefresh fetches a new one unless one
// was fetched within the last few seconds. Refusals are *TokenError.
func (s *ClientCredentialsSource) AccessToken(ctx context.Context, forceRefresh bool) (string, error) {
	return s.token(ctx, forceRefresh, "")
}

// Renew returns an app-only token in place of refused, the one the server has just
// refused: the current one when it is another and still valid, else a new one.
func (s *ClientCredentialsSource) Renew(ctx context.Context, refused string) (string, error) {
	return s.token(ctx, true, refused)
}

func (s *ClientCredentialsSource) token(ctx context.Context, forceRefresh bool, refused string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ts := TokenSource{EarlyRefresh: s.EarlyRefresh, now: s.now}
	if s.tok != nil && ts.valid(s.tok) {
		switch {
		case !forceRefresh:
			return s.tok.AccessToken, nil
		case refused != "":
			if s.tok.AccessToken != refused {
				return s.tok.AccessToken, nil
			}
		case s.now().Sub(s.fetchedAt) < forceWindow:
			return s.tok.AccessToken, nil
		}
	}
	cc, op, err := s.request()
	if err != nil {
		return "", err
	}
	tok, err := cc.Token(s.cfg.httpContext(ctx))
	if err != nil {
		err = tokenError(op, s.cfg.TokenURL, err)
		var te *TokenError
		if errors.As(err, &te) {
			te.Profile = s.Profile
		}
		return "", err
	}
	s.tok, s.fetchedAt = tok, s.now()
	logger := s.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.Debug("app-only access token fetched", "expiry", tok.Expiry)
	return tok.AccessToken, nil
}

// request builds the token request: the client secret, a fresh client assertion signed
// with the certificate, or a service account's fresh JWT bearer assertion. op names it
// for errors (English, marked with i18n.Key).
func (s *ClientCredentialsSource) request() (clientcredentials.Config, string, error) {
	cc := clientcredentials.Config{
		ClientID:     s.cfg.ClientID,
		ClientSecret: s.cfg.ClientSecret,
		TokenURL:     s.cfg.TokenURL,
		Scopes:       s.cfg.Scopes,
		AuthStyle:    s.cfg.AuthStyle,
	}
	switch {
	case s.cfg.Flow == store.FlowServiceAccount:
		if s.cfg.ServiceAccount == nil {
			return cc, "", missingServiceAccount(s.Profile)
		}
		a, err := s.cfg.ServiceAccount.Assertion(s.cfg.Subject, s.cfg.TokenURL, s.cfg.Scopes, s.now())
		if err != nil {
			return cc, "", err
		}
		// RFC 7523 2.1: grant_type and assertion only; the scope is in the assertion.
		return clientcredentials.Config{TokenURL: s.cfg.TokenURL, AuthStyle: oauth2.AuthStyleInParams,
			EndpointParams: url.Values{"grant_type": {JWTBearerGrantType}, "assertion": {a}}}, i18n.Key("service account sign-in"), nil
	case s.cfg.ClientAuth == store.ClientAuthCertificate || s.cfg.ClientCert != nil:
		if s.cfg.ClientCert == nil {
			return cc, "", missingCertificate(s.Profile)
		}
		a, err := s.cfg.ClientCert.Assertion(s.cfg.ClientID, s.cfg.TokenURL, s.cfg.AssertionAlg, s.now())
		if err != nil {
			return cc, "", err
		}
		cc.ClientSecret, cc.AuthStyle = "", oauth2.AuthStyleInParams
		cc.EndpointParams = url.Values{"client_assertion_type": {ClientAssertionType}, "client_assertion": {a}}
		return cc, i18n.Key("client credentials"), nil
	case s.cfg.ClientSecret == "":
		return cc, "", missingSecret(s.Profile)
	}
	return cc, i18n.Key("client credentials"), nil
}

// missingSecret is the error of client credentials without a client secret.
func missingSecret(profile string) error {
	return &ConfigError{Profile: profile, Field: store.SecretClientSecret,
		Reason: i18n.Sprintf("client credentials need the client secret: store it with 'mailmover secret set -profile %s client-secret' (or authenticate with a certificate: client_auth = \"certificate\")", profileOr(profile))}
}

func missingCertificate(profile string) error {
	return &ConfigError{Profile: profile, Field: store.SecretClientCertificate,
		Reason: i18n.Sprintf("client_auth = \"certificate\" needs the private key and its certificate (PEM): store them with 'mailmover secret set -profile %s client-certificate < app.pem', or name a file (chmod 600) in client_certificate_file", profileOr(profile))}
}

// NewTokenSourceFor returns the token source profile p's flow needs, reading its
// credentials from sec (usually store.Keyring()) or the key file the profile names:
//   - authcode and device: a *TokenSource over NewSecretsTokenStore(sec, p.Name), which
//     refreshes the refresh token stored by `mailmover login`;
//   - client_credentials: a *ClientCredentialsSource with the client secret, or with the
//     certificate (client_auth = "certificate": LoadClientCertificate);
//   - service_account: a *ClientCredentialsSource with the service account's key
//     (LoadServiceAccount), acting for the mailbox p.Setup.Username.
//
// A missing client secret is fine for public clients; a missing app credential, or a
// keyring that cannot be read, is an error that names the profile.
func NewTokenSourceFor(p *store.Profile, sec store.Secrets, logger *slog.Logger) (Source, error) {
	o := p.OAuth2
	var secret string
	if o.Flow != store.FlowServiceAccount && !o.UsesCertificate() {
		var err error
		secret, err = sec.Get(p.Name, store.SecretClientSecret)
		if errors.Is(err, store.ErrNoSecret) {
			secret, err = "", nil
		}
		if err != nil {
			return nil, i18n.Errorf("reading the client secret of profile %q: %w", p.Name, err)
		}
	}
	if o.Flow == store.FlowClientCredentials && !o.UsesCertificate() && secret == "" {
		return nil, missingSecret(p.Name)
	}
	cfg, err := ConfigFromProfile(o, secret)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.Profile = p.Name
		}
		return nil, err
	}
	switch {
	case cfg.Flow == store.FlowServiceAccount:
		if cfg.ServiceAccount, err = LoadServiceAccount(p.Name, o, sec); err != nil {
			return nil, err
		}
		cfg.Subject = p.Setup.Username
	case cfg.Flow == store.FlowClientCredentials && o.UsesCertificate():
		if cfg.ClientCert, err = LoadClientCertificate(p.Name, o, sec); err != nil {
			return nil, err
		}
	}
	if cfg.Flow == store.FlowClientCredentials || cfg.Flow == store.FlowServiceAccount {
		s := NewClientCredentialsSource(cfg)
		s.Logger, s.Profile = logger, p.Name
		return s, nil
	}
	ts := NewSecretsTokenStore(sec, p.Name)
	ts.Logger = logger
	s := NewTokenSource(cfg, ts)
	s.Profile, s.Logger = p.Name, logger
	return s, nil
}

// NewTokenSourceForProfile is NewTokenSourceFor for a profile's [oauth2] table alone
// (a service account, which needs the mailbox, is NewTokenSourceFor's).
func NewTokenSourceForProfile(profile string, o store.OAuth2, sec store.Secrets, logger *slog.Logger) (Source, error) {
	return NewTokenSourceFor(&store.Profile{Name: profile, OAuth2: o}, sec, logger)
}
