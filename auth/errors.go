package auth

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"

	"golang.org/x/oauth2"

	"mailmover/i18n"
	"mailmover/store"
)

// ErrLoginTimeout is wrapped by the error Login returns when no answer came back from the
// browser in time.
var ErrLoginTimeout = i18n.NewError("sign-in timed out")

// ErrNotSignedIn is wrapped by a *ReauthError when no refresh token is stored at all.
var ErrNotSignedIn = i18n.NewError("not signed in")

// exchangeTimeoutError means the browser's answer arrived, but the token endpoint did not
// answer the code exchange before the sign-in's time ran out. It wraps ErrLoginTimeout.
type exchangeTimeoutError struct{ tokenURL string }

func (e *exchangeTimeoutError) Error() string {
	return i18n.Sprintf("sign-in timed out: the browser's answer arrived, but the token endpoint %s did not answer the code exchange in time", e.tokenURL)
}

func (e *exchangeTimeoutError) Unwrap() error { return ErrLoginTimeout }

// ConfigError is a problem with one field of the [oauth2] profile table. Field is the
// profile key ("redirect_uri", "redirect_port", "client_id", …).
type ConfigError struct {
	// Profile is the profile's name when known; the commands Reason names carry it.
	Profile string
	Field   string
	Reason  string
}

// Error names the field and the reason (Reason is translated where it is filled).
func (e *ConfigError) Error() string { return e.Field + ": " + e.Reason }

// PortError means the loopback listener could not start on Port (Addr is the address
// tried). InUse is true when another program holds the port.
type PortError struct {
	Port  int
	Addr  string
	InUse bool
	Err   error
}

// Error names the port and whether it is in use.
func (e *PortError) Error() string {
	if e.InUse {
		return i18n.Sprintf("redirect_port %d is already in use on %s (another program, or another sign-in still waiting): %v", e.Port, e.Addr, e.Err)
	}
	return i18n.Sprintf("cannot listen on redirect_port %d (%s): %v", e.Port, e.Addr, e.Err)
}

// Unwrap returns the listen error.
func (e *PortError) Unwrap() error { return e.Err }

// ProviderError is an error the provider sent back to the redirect URI (RFC 6749
// section 4.1.2.1): the user declined, the app registration is wrong, and so on.
type ProviderError struct {
	Code        string // "access_denied", "invalid_scope", …
	Description string // the provider's error_description, cleaned of control characters
	URI         string // error_uri, if any
}

// Error gives the provider's code and description.
func (e *ProviderError) Error() string {
	s := i18n.Sprintf("the provider refused the sign-in: %s", e.Code)
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// TokenError is a refusal from the token endpoint. Op says which request failed ("code
// exchange", "refresh", "device code", "client credentials"; English, translated where it is
// shown). Unlike oauth2.RetrieveError its text never includes the response body.
type TokenError struct {
	// Profile is the profile's name when known; the commands the advice names carry it.
	Profile     string
	Op          string
	Status      int // HTTP status, 0 if unknown
	Code        string
	Description string
}

// Error gives the request, the HTTP status and the provider's code and description
// (never the response body).
func (e *TokenError) Error() string {
	s := i18n.Sprintf("the token endpoint refused the %s", i18n.T(e.Op))
	if e.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	if e.Code != "" {
		s += ": " + e.Code
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// ReauthError means the stored sign-in can no longer be used: the provider answered
// invalid_grant (the refresh token lapsed, was revoked, or the password changed), or no
// refresh token is stored. The admin must sign in again: GET in the window, or
// `mailmover login -profile PROFILE`.
type ReauthError struct {
	Profile     string // may be empty
	Code        string // the provider's error code ("invalid_grant"), empty when not signed in
	Description string // the provider's description
	Err         error  // ErrNotSignedIn or the *TokenError
}

// Error says to sign in again, why, and how.
func (e *ReauthError) Error() string {
	cmd := "mailmover login" // i18n:keep (a command)
	if e.Profile != "" {
		cmd += " -profile " + e.Profile
	}
	how := i18n.Sprintf("press GET in the window or run '%s'", cmd)
	if e.Code == "" {
		return i18n.Sprintf("not signed in (no refresh token stored): sign in first: %s", how)
	}
	why := e.Code
	if e.Description != "" {
		why += ": " + e.Description
	}
	return i18n.Sprintf("sign in again: the provider no longer accepts the stored refresh token (%s); %s", why, how)
}

// Unwrap returns ErrNotSignedIn or the *TokenError.
func (e *ReauthError) Unwrap() error { return e.Err }

// tokenError turns an x/oauth2 error into a *TokenError (never carrying the body), or
// wraps a transport error with the endpoint's address (which carries no secret). op is the
// English name of the request, marked with i18n.Key by the caller.
func tokenError(op, tokenURL string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		te := &TokenError{Op: op, Code: clean(re.ErrorCode), Description: clean(re.ErrorDescription)}
		if re.Response != nil {
			te.Status = re.Response.StatusCode
		}
		return te
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return i18n.Errorf("%s at %s: %w", i18n.T(op), tokenURL, err)
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() {
		return i18n.Errorf("%s: the provider at %s did not answer in time (check the network, or try again later): %w", i18n.T(op), tokenURL, err)
	}
	if !errors.As(err, &ue) {
		// The provider answered, but not with a token response x/oauth2 can read (an
		// HTML page, broken JSON, no access_token): the address is likely not the token
		// endpoint, or a proxy answered instead.
		return i18n.Errorf("%s: the answer from %s is not a usable token response (is token_url the provider's token endpoint? a proxy or login page may have answered): %w", i18n.T(op), tokenURL, err)
	}
	return i18n.Errorf("%s: cannot reach the provider at %s (check the URL in the profile and the network): %w", i18n.T(op), tokenURL, err)
}

// clean strips control characters from provider text and caps its length, so a hostile or
// broken provider cannot forge lines in logs or terminals.
func clean(s string) string {
	const max = 500
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > max {
		cut := max
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// DescribeError turns an error from this package into one sentence for the user (text)
// and what to do about it (advice, may be empty). It knows the OAuth2 error codes and the
// common Microsoft Entra AADSTS codes. Neither string contains a token or a secret. The
// commands the advice names carry the profile the error knows (its Profile), else the
// placeholder PROFILE; DescribeErrorFor names the profile for errors that do not know it.
func DescribeError(err error) (text, advice string) { return DescribeErrorFor(err, "") }

// DescribeErrorFor is DescribeError for profile: the commands the advice names carry the
// error's own profile, else profile, else the placeholder PROFILE.
func DescribeErrorFor(err error, profile string) (text, advice string) {
	if err == nil {
		return "", ""
	}
	text = err.Error()
	name := func(own string) string {
		if own != "" {
			return own
		}
		return profileOr(profile)
	}
	var (
		ce *ConfigError
		pe *PortError
		pr *ProviderError
		te *TokenError
		ra *ReauthError
	)
	var db *DeviceBlockedError
	switch {
	case errors.As(err, &db):
		return text, i18n.Sprintf("This tenant blocks the device-code sign-in (security defaults or Conditional Access). Use the browser sign-in instead: on a machine without a browser run 'mailmover login -profile %s -no-browser', open the address in a browser on any machine and paste the address it ends on back (paste-back); or tunnel the redirect port with 'ssh -L PORT:localhost:PORT' and sign in with the browser on your machine.", name(""))
	case errors.As(err, &ra):
		if ra.Code == "" {
			return text, i18n.Sprintf("Sign in first: press GET in the window, or run 'mailmover login -profile %s' (add -no-browser on a machine without a browser).", name(ra.Profile))
		}
		adv := i18n.Sprintf("Sign in again: press GET in the window, or run 'mailmover login -profile %s'.", name(ra.Profile))
		if a := adviceFor(ra.Code, ra.Description, "", name(ra.Profile)); a != "" {
			// The code's advice already says "Sign in again."; add only where to do it.
			a = strings.TrimSuffix(strings.TrimSpace(a), " "+i18n.T("Sign in again."))
			adv = a + " " + adv
		}
		return text, adv
	case errors.As(err, &ce):
		switch ce.Field {
		case store.SecretClientSecret, store.SecretClientCertificate, store.SecretServiceAccount:
			return text, "" // the reason says what to store, and how
		}
		if strings.Contains(ce.Field, ".") {
			return text, i18n.Sprintf("Fix %s in the profile.", ce.Field)
		}
		return text, i18n.Sprintf("Fix %s in the profile's [oauth2] settings.", ce.Field)
	case errors.As(err, &pe):
		if pe.InUse {
			return text, i18n.Sprintf("Close the program using port %d (or the other sign-in window), or pick another redirect port and register the matching redirect URI with the provider.", pe.Port)
		}
		return text, i18n.T("Check that loopback networking works on this machine, or pick another redirect port.")
	case errors.As(err, &pr):
		return text, adviceFor(pr.Code, pr.Description, "", name(""))
	case errors.As(err, &te):
		if a := adviceFor(te.Code, te.Description, te.Op, name(te.Profile)); a != "" || te.Code != "" {
			return text, a
		}
		switch {
		case te.Status >= 500:
			return text, i18n.Sprintf("The provider had an internal error (HTTP %d): try again later.", te.Status)
		case te.Status == 404 || te.Status == 405:
			return text, i18n.T("The token endpoint was not found: check token_url in the profile (or pick a preset).")
		}
		return text, ""
	case errors.As(err, new(*exchangeTimeoutError)):
		return text, i18n.T("The provider is slow or does not answer: check token_url and the network, then sign in again.")
	case errors.Is(err, ErrLoginTimeout):
		return text, i18n.T("Start the sign-in again and finish it in the browser within the time limit; if no browser opened, copy the printed address into one on this machine.")
	case errors.Is(err, ErrDeviceCodeExpired):
		return text, i18n.T(codeAdvice["expired_token"])
	case errors.Is(err, context.Canceled):
		return text, ""
	}
	// Errors of other packages that carry their own advice (store.KeyringUnavailableError).
	var adv interface{ Advice() string }
	if errors.As(err, &adv) {
		return text, adv.Advice()
	}
	return text, ""
}

// aadAdvice maps Microsoft Entra error numbers (found inside error_description) to advice
// (English keys, translated by adviceFor).
var aadAdvice = []struct{ code, advice string }{
	{"AADSTS700025", i18n.Key("The app registration is a public client, so it must not get a client secret: remove the client secret stored for this profile (or set an empty one), or make the app confidential in Entra.")},
	{"AADSTS7000218", i18n.Key("The app registration wants a client secret or certificate and none was sent. For sign-in by a person (browser, paste-back or device code) set Entra → the app → Authentication → 'Allow public client flows' to Yes (the device flow needs it too) and register the redirect URI under 'Mobile and desktop applications'; for app-only access store the secret with 'mailmover secret set -profile %s client-secret', or use a certificate (client_auth = \"certificate\").")},
	{"AADSTS7000215", i18n.Key("The client secret is wrong or expired: create a new one in Entra (Certificates & secrets) and store its value (not its ID) with 'mailmover secret set -profile %s client-secret'.")},
	{"AADSTS7000222", i18n.Key("The client secret has expired: create a new one in Entra (Certificates & secrets) and store it with 'mailmover secret set -profile %s client-secret'.")},
	{"AADSTS700027", i18n.Key("Entra refused the certificate's signed assertion: the certificate is not uploaded to this app registration (Certificates & secrets → Certificates), has expired, or the key is not the certificate's. Upload the certificate (.cer or .pem, without the key) and store the matching key and certificate with 'mailmover secret set -profile %s client-certificate'.")},
	{"AADSTS65001", i18n.Key("Consent is missing: an admin must grant consent for the app's permissions (Entra → App registrations → API permissions → Grant admin consent, including IMAP.AccessAsUser.All), or the user must accept the consent prompt.")},
	{"AADSTS65004", i18n.Key("The consent prompt was declined, so the app got no access. Sign in again and accept, or have an admin grant consent for the whole tenant (Entra → App registrations → API permissions → Grant admin consent).")},
	{"AADSTS90094", i18n.Key("Only an administrator may consent to the app's permissions in this tenant: ask an admin to grant consent (Entra → App registrations → the app → API permissions → Grant admin consent for the tenant), then sign in again.")},
	{"AADSTS90095", i18n.Key("Admin consent is needed, and the tenant's admin consent workflow took a request: wait until an admin approves it (Entra → Enterprise applications → Admin consent requests), then sign in again.")},
	{"AADSTS50105", i18n.Key("The account is not assigned to the app: in Entra → Enterprise applications → the app → Users and groups, assign the account (or a group it is in), or set 'Assignment required?' to No under Properties.")},
	{"AADSTS50079", i18n.Key("The account must register for multi-factor authentication first: sign in once in a browser (GET in the window, or paste-back with 'mailmover login -profile %s -no-browser') and finish the registration; a device-code or app-only sign-in cannot do it.")},
	{"AADSTS50072", i18n.Key("The account must register for multi-factor authentication first: sign in once in a browser (GET in the window, or paste-back with 'mailmover login -profile %s -no-browser') and finish the registration; a device-code or app-only sign-in cannot do it.")},
	{"AADSTS500011", i18n.Key("Exchange Online's service principal is not in this tenant: the tenant has no Exchange Online subscription, or tenant names another tenant than the mailbox's. Check tenant; for app-only access the scope is https://outlook.office365.com/.default (Microsoft 365 global; the national clouds' presets set their own).")},
	{"AADSTS650052", i18n.Key("The app asks for Exchange Online, which this tenant has not subscribed to or has turned off: check that tenant is the mailbox's tenant and that it has Exchange Online (a Microsoft 365 subscription with mailboxes).")},
	{"AADSTS700082", i18n.Key("The refresh token lapsed because it was not used for 90 days. Sign in again, and run the mover at least every few weeks.")},
	{"AADSTS50011", i18n.Key("The redirect URI sent does not match the app registration: register exactly the profile's redirect_uri in Entra under 'Mobile and desktop applications', or change redirect_uri to the registered one.")},
	{"AADSTS500113", i18n.Key("The app registration has no redirect URI: register the profile's redirect_uri in Entra under 'Mobile and desktop applications'.")},
	{"AADSTS700016", i18n.Key("The client_id was not found in this tenant: check client_id and tenant (use the tenant ID when the app is single-tenant).")},
	{"AADSTS50194", i18n.Key("The app is single-tenant: set tenant to your tenant ID (not 'common' or 'organizations').")},
	{"AADSTS90002", i18n.Key("The tenant was not found: check the tenant ID or domain.")},
	{"AADSTS70011", i18n.Key("The scope is not valid: for IMAP use 'https://outlook.office.com/IMAP.AccessAsUser.All offline_access' (or 'https://outlook.office365.com/.default' for client credentials).")},
	{"AADSTS50020", i18n.Key("The account signed in is not a member of the app's tenant: sign in with an account of the tenant that owns the app and the mailbox (pick it in the browser's account list). Only if the app is to serve several tenants: make it multi-tenant in Entra (Authentication → Supported account types) and use tenant 'organizations' — with a single-tenant app, 'organizations' fails with AADSTS50194.")},
	{"AADSTS50173", i18n.Key("The refresh token was revoked because the password changed or sessions were revoked. Sign in again.")},
	{"AADSTS70043", i18n.Key("The refresh token expired because of a Conditional Access sign-in frequency policy. Sign in again.")},
	{"AADSTS50076", i18n.Key("Multi-factor authentication is required: sign in again interactively.")},
	{"AADSTS53003", i18n.Key("A Conditional Access policy blocked the sign-in (for example one that requires a compliant or joined device, a location, or blocks the device-code flow). OAuth2 is modern authentication, so a policy that blocks only legacy authentication ('other clients') is not the cause. Ask the tenant admin which policy applied (Entra → Sign-in logs → the failed sign-in → Conditional Access).")},
	{"AADSTS530035", i18n.Key("The tenant's security defaults blocked the sign-in (they block the device-code flow): use the browser sign-in; on a machine without a browser, 'mailmover login -profile %s -no-browser' and paste the address back.")},
	{"AADSTS700084", i18n.Key("The refresh token of a single-page application lapsed after 24 hours: register the redirect URI under 'Mobile and desktop applications', not 'Single-page application'.")},
	{"AADSTS9002327", i18n.Key("The redirect URI is registered as a single-page application: register it under 'Mobile and desktop applications' instead.")},
}

// codeAdvice maps OAuth2 error codes (RFC 6749, RFC 8628 and common provider codes) to
// advice (English keys, translated by adviceFor).
var codeAdvice = map[string]string{
	"access_denied":             i18n.Key("The sign-in was declined (by the user, or the app is not allowed for this account). Sign in again and accept, or ask the admin to allow the app."),
	"invalid_scope":             i18n.Key("The scope is not accepted by the provider: check the scope field (Microsoft IMAP: 'https://outlook.office.com/IMAP.AccessAsUser.All offline_access'; Google: 'https://mail.google.com/')."),
	"invalid_client":            i18n.Key("The provider does not accept the client: check client_id, and the client secret (public clients send none)."),
	"unauthorized_client":       i18n.Key("The client may not use this flow: enable it in the app registration (for device code on Microsoft: 'Allow public client flows')."),
	"invalid_grant":             i18n.Key("The code or refresh token is no longer valid. Sign in again."),
	"consent_required":          i18n.Key("Consent is missing: accept the consent prompt, or ask an admin to grant consent for the app."),
	"interaction_required":      i18n.Key("The provider needs you at the browser (MFA, consent or terms): sign in again interactively."),
	"login_required":            i18n.Key("The provider needs you to sign in: sign in again interactively."),
	"server_error":              i18n.Key("The provider had an internal error: try again later."),
	"temporarily_unavailable":   i18n.Key("The provider is busy: try again in a few minutes."),
	"redirect_uri_mismatch":     i18n.Key("The redirect URI is not registered for this client: register exactly the profile's redirect_uri with the provider."),
	"invalid_request":           i18n.Key("The provider refused the request: check client_id, redirect_uri and scope."),
	"unsupported_response_type": i18n.Key("The client is not allowed the authorization-code flow: check the app registration's platform."),
	"unsupported_grant_type":    i18n.Key("The provider does not support this flow for the client: check the flow setting and the app registration."),
	"expired_token":             i18n.Key("The device code expired before the sign-in was finished: run the sign-in again and enter the code sooner."),
	"slow_down":                 i18n.Key("The provider asked to poll more slowly: wait and try again."),
	"authorization_pending":     i18n.Key("The sign-in on the other device is not finished yet."),
}

// adviceFor returns advice for an OAuth2 code and a provider description (which may carry
// an AADSTS number), translated; op is the request that failed (TokenError.Op, or "") and
// profile the name the commands in the advice carry.
func adviceFor(code, description, op, profile string) string {
	for _, a := range aadAdvice {
		if hasAADCode(description, a.code) {
			if strings.Contains(a.advice, "%s") {
				return i18n.Sprintf(a.advice, profile)
			}
			return i18n.T(a.advice)
		}
	}
	desc := strings.ToLower(description)
	switch {
	case op == opServiceAccount && code == "unauthorized_client":
		return i18n.T("Google does not let the service account act for this mailbox: in the Google Admin console (Security → Access and data control → API controls → Manage domain-wide delegation) add the service account's client ID (the key's client_id, a number) with the scope https://mail.google.com/, and check that [setup] username is a mailbox of that Workspace domain. Changes can take some minutes to apply.")
	case op == opServiceAccount && code == "invalid_grant":
		return i18n.T("Google refused the service account's signed request: the key was deleted or disabled (Google Cloud console → IAM → Service accounts → Keys), the key file is not this account's, or this machine's clock is off by minutes. Store a current JSON key, and check the clock.")
	case code == "invalid_grant" && strings.Contains(desc, "expired or revoked"): // i18n:keep (Google's text)
		return i18n.T("Google refused the refresh token (expired or revoked). If the Google Cloud app is in 'Testing' status its refresh tokens lapse after 7 days: publish it (In production) and sign in again.")
	case code == "invalid_request" && strings.Contains(desc, "client_secret is missing"): // i18n:keep (Google's text)
		return i18n.Sprintf("Google needs the OAuth client's secret, also for a desktop app: copy it from the Google Cloud console (APIs & Services → Credentials → the OAuth client) and store it with 'mailmover secret set -profile %s client-secret'.", profile)
	}
	if a, ok := codeAdvice[code]; ok {
		return i18n.T(a)
	}
	return ""
}

// opServiceAccount is TokenError.Op of a service account's JWT bearer grant.
const opServiceAccount = "service account sign-in" // i18n:keep (TokenError.Op, compared)

// hasAADCode reports whether a provider's description names the Entra error code (e.g.
// "AADSTS53003"), as a whole code: "AADSTS53003:" yes, "AADSTS530035:" no.
func hasAADCode(description, code string) bool {
	return strings.Contains(description, code+":") || strings.Contains(description, code+" ") || strings.HasSuffix(description, code)
}
