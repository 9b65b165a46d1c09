// Package auth gets and keeps MailMover's OAuth2 tokens.
//
// It holds the provider presets (Microsoft 365, Google, custom) and the checks an admin
// needs before anything starts (ValidateRedirect, ScopeWarning); the loopback
// authorization-code flow of RFC 8252 with PKCE (RFC 7636) and a random state (Login); the
// device-code flow of RFC 8628 (LoginDevice); and token sources that hand out access tokens
// in the shape imapsrc.TokenFunc expects: TokenSource refreshes a stored refresh token and
// saves a rotated one at once (NewTokenSource, NewSecretsTokenStore), and
// ClientCredentialsSource gets app-only tokens. NewTokenSourceForProfile picks the right
// one for a profile.
//
// Errors are typed (*ConfigError, *ProviderError, *TokenError, *ReauthError, *PortError)
// and DescribeError turns any of them into a sentence and advice for the window and the
// command line. No error, log line or page produced here contains a token or a secret.
package auth
