package imapsrc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"

	"mailmover/i18n"
)

// Kind classifies an *Error so that callers can decide what to do (retry later, ask the
// user to sign in again, change a setting).
type Kind int

// Kinds of errors returned by this package.
const (
	KindOther        Kind = iota // anything not covered below
	KindConfig                   // the Config is incomplete or contradictory
	KindConnect                  // the server could not be reached (DNS, refused, timeout)
	KindTLS                      // the TLS handshake or certificate check failed
	KindInsecure                 // a secret would have gone over an unencrypted link
	KindMechanism                // the server does not offer the chosen sign-in method
	KindAuth                     // the server refused the password or token
	KindToken                    // no access token could be obtained from the provider
	KindNotConnected             // signed in, but the identity may not open the mailbox (O365)
	KindFolder                   // a folder does not exist or cannot be selected
	KindGone                     // the message no longer exists on the server
	KindNetwork                  // the connection broke or the server stopped answering
	KindServer                   // the server refused a command (NO/BAD)
)

var kindNames = map[Kind]string{
	KindOther: "error", KindConfig: "configuration", KindConnect: "connect",
	KindTLS: "tls", KindInsecure: "insecure", KindMechanism: "mechanism", KindAuth: "auth",
	KindToken: "token", KindNotConnected: "not-connected", KindFolder: "folder",
	KindGone: "gone", KindNetwork: "network", KindServer: "server",
}

// String names the kind in lower case ("auth", "tls", …).
func (k Kind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error is the error type of this package. Reason says what went wrong in words, Advice
// what the user should change; neither ever holds a secret.
type Error struct {
	Kind   Kind
	Host   string // the server, "host:port"
	Op     string // what was being done: "connect", "tls", "sign-in", "select", "fetch", …
	Reason string // the cause in words
	Advice string // what to do about it; may be empty
	Err    error  // the underlying error, if any
}

// Error returns "imap HOST: OP: REASON: underlying error".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("imap")
	if e.Host != "" {
		b.WriteString(" " + e.Host)
	}
	if e.Op != "" {
		b.WriteString(": " + e.Op)
	}
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	if e.Err != nil {
		msg := e.Err.Error()
		if !strings.Contains(e.Reason, strings.TrimPrefix(msg, "imap: ")) {
			b.WriteString(": " + msg)
		}
	}
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether trying again later may help without changing a setting
// (network trouble, a busy server). Sign-in, TLS and configuration errors are not.
func (e *Error) Temporary() bool {
	switch e.Kind {
	case KindConnect, KindNetwork, KindServer:
		return true
	}
	return false
}

// Advice returns the advice of the first *Error in err's chain, or "".
func Advice(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Advice
	}
	return ""
}

// KindOf returns the Kind of the first *Error in err's chain, or KindOther.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindOther
}

// Advice texts shared by several places: English keys, translated with i18n.T where
// they are used.
var (
	adviceTokenRejected    = i18n.Key("The server refused the OAuth2 access token. Check that: the token's scope is for IMAP (Microsoft 365: https://outlook.office.com/IMAP.AccessAsUser.All offline_access; Gmail: https://mail.google.com/ — OIDC scopes alone give a token IMAP refuses); IMAP is enabled for the mailbox (Microsoft 365 admin: Set-CASMailbox -ImapEnabled $true) and for the tenant; the tenant in [oauth2] is the mailbox's tenant; the username is the mailbox address. If it keeps failing, sign in again with 'mailmover login'.")
	advicePasswordRejected = i18n.Key("The server refused the username or password. Check both (store the password with 'mailmover secret set -profile %s password'). Microsoft 365 and Gmail no longer accept passwords for IMAP: use auth = \"xoauth2\" there (Gmail also takes an app password).")
	adviceNotConnected     = i18n.Key("The sign-in worked, but the signed-in account may not open the mailbox named in [setup] username. Either you signed in with another account in the browser (sign in again with 'mailmover login' and pick the mailbox's account), or, for a shared mailbox, the signed-in user lacks FullAccess on it (Microsoft 365 admin: Add-MailboxPermission -AccessRights FullAccess).")
	adviceAppOnlyMicrosoft = i18n.Key("The server refused the app's own token (client credentials) for mailbox %s. The delegated scope plays no part here: an app-only token opens a mailbox only when Exchange Online knows the app and the mailbox lets it in. In Entra, the app needs the API permission Office 365 Exchange Online → Application permissions → IMAP.AccessAsApp, with admin consent; then, in Exchange Online PowerShell (Connect-ExchangeOnline): New-ServicePrincipal -AppId <Application (client) ID> -ObjectId <Object ID of the app's Enterprise application — not of the app registration>, and Add-MailboxPermission -Identity %s -User <that service principal's ID> -AccessRights FullAccess. Changes can take an hour to apply. Also check that IMAP is on for the mailbox (Set-CASMailbox -ImapEnabled $true) and that [setup] username is the mailbox's address.")
	adviceAppOnlyGoogle    = i18n.Key("Gmail refused the service account's token for %s. Check that domain-wide delegation (Google Admin console → Security → Access and data control → API controls) lists the account's client ID with the scope https://mail.google.com/, that IMAP is allowed for the domain's users (Apps → Google Workspace → Gmail → End user access), and that [setup] username is the mailbox's address.")
	adviceAppOnlyOther     = i18n.Key("The server refused the app's own token (client credentials) for mailbox %s: check that the provider gives the app access to that mailbox and that the scope is the one the IMAP server expects.")
	adviceInsecure         = i18n.Key("Use tls = \"implicit\" (port 993) or tls = \"starttls\" (port 143) in [security]; MailMover sends passwords and tokens without encryption only to a server on this machine (loopback).")
)

// Values for Config.AppOnly.
const (
	AppOnlyMicrosoft = "microsoft"
	AppOnlyGoogle    = "google"
	AppOnlyOther     = "other"
)

// tokenRejectedAdvice is the advice for a token the server refused: for an app-only
// token the app's access to the mailbox, else the user's sign-in and scope.
func (c Config) tokenRejectedAdvice() string {
	switch c.AppOnly {
	case AppOnlyMicrosoft:
		return i18n.Sprintf(adviceAppOnlyMicrosoft, c.Username, c.Username)
	case AppOnlyGoogle:
		return i18n.Sprintf(adviceAppOnlyGoogle, c.Username)
	case AppOnlyOther:
		return i18n.Sprintf(adviceAppOnlyOther, c.Username)
	}
	return i18n.T(adviceTokenRejected)
}

// notConnectedAdvice is the advice for "authenticated but not connected": for an
// app-only token the app's permission on the mailbox, else the account signed in.
func (c Config) notConnectedAdvice() string {
	if c.AppOnly != "" {
		return c.tokenRejectedAdvice()
	}
	return i18n.T(adviceNotConnected)
}

// classifyNet turns a transport failure into an *Error of kind KindNetwork (or the
// context's error when ctx is done).
func classifyNet(ctx context.Context, host, op string, err error) error {
	if err == nil {
		return nil
	}
	if ctx != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	var le *limitError
	if errors.As(err, &le) {
		return le.asError(host, op)
	}
	var ie *imap.Error
	if errors.As(err, &ie) {
		return serverError(host, op, ie)
	}
	reason := i18n.T("the connection broke")
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		reason = i18n.T("the server stopped answering (timeout)")
	}
	return &Error{Kind: KindNetwork, Host: host, Op: op, Reason: reason,
		Advice: i18n.T("Check the network; MailMover connects again on its own."), Err: err}
}

// serverError wraps a NO/BAD answer of the server for op.
func serverError(host, op string, ie *imap.Error) *Error {
	if isNotConnected(ie) {
		return &Error{Kind: KindNotConnected, Host: host, Op: op,
			Reason: i18n.Sprintf("the server says: %s", ie.Text), Advice: i18n.T(adviceNotConnected), Err: ie}
	}
	return &Error{Kind: KindServer, Host: host, Op: op,
		Reason: i18n.Sprintf("the server refused %s: %s", op, serverText(ie)), Err: ie}
}

// serverText renders an *imap.Error as "NO [CODE] text".
func serverText(ie *imap.Error) string {
	s := string(ie.Type)
	if ie.Code != "" {
		s += " [" + string(ie.Code) + "]"
	}
	if ie.Text != "" {
		s += " " + ie.Text
	}
	return cleanServerText(s)
}

// maxServerText caps server text shown to the user.
const maxServerText = 400

// cleanServerText makes text from the server safe to show: control characters (a hostile
// server could move the cursor or recolour a terminal, or forge log lines) become
// spaces, invalid UTF-8 is replaced, and the length is capped.
func cleanServerText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxServerText {
		cut := maxServerText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// isNotConnected matches Microsoft 365's "User is authenticated but not connected".
func isNotConnected(ie *imap.Error) bool {
	return strings.Contains(strings.ToLower(ie.Text), "authenticated but not connected") // i18n:keep (the server's words)
}
