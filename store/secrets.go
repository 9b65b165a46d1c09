package store

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zalando/go-keyring"

	"mailmover/i18n"
)

// Kinds of secret kept per profile; the keyring account is "PROFILE/KIND".
const (
	SecretClientSecret = "client-secret"
	SecretPassword     = "password"
	SecretRefreshToken = "refresh-token"
	SecretAccessToken  = "access-token"
	// SecretClientCertificate is a PEM private key with its certificate, for client
	// credentials with client_auth = "certificate".
	SecretClientCertificate = "client-certificate"
	// SecretServiceAccount is a Google service account's JSON key, for flow =
	// "service_account".
	SecretServiceAccount = "service-account"
)

// SecretKinds lists every kind of secret a profile can have, in a fixed order.
var SecretKinds = []string{SecretClientSecret, SecretPassword, SecretRefreshToken, SecretAccessToken,
	SecretClientCertificate, SecretServiceAccount}

// KeyringService is the service name of every MailMover entry in the OS keyring.
const KeyringService = "mailmover"

// ErrNoSecret is returned by Secrets.Get when nothing is stored for the profile and kind.
var ErrNoSecret = i18n.NewError("no secret stored")

// Secrets stores a profile's secrets. Implementations are safe for concurrent use and
// never put a secret value into an error.
type Secrets interface {
	// Get returns the secret, or an error wrapping ErrNoSecret when none is stored.
	Get(profile, kind string) (string, error)
	// Set stores the secret, replacing any earlier one.
	Set(profile, kind, value string) error
	// Delete removes the secret; removing one that is not there is not an error.
	Delete(profile, kind string) error
}

// Account returns the keyring account of a profile's secret, "PROFILE/KIND".
func Account(profile, kind string) string { return profile + "/" + kind }

// checkSecretRef refuses a profile name or kind that would make an ambiguous account.
func checkSecretRef(profile, kind string) error {
	if err := ValidProfileName(profile); err != nil {
		return err
	}
	if !slices.Contains(SecretKinds, kind) {
		return i18n.Errorf("unknown kind of secret %q (one of %s)", kind, strings.Join(SecretKinds, ", "))
	}
	return nil
}

// KeyringUnavailableError says the OS keyring could not be used: no Secret Service on the
// session bus, no session bus at all, a locked collection, or no answer in time.
type KeyringUnavailableError struct {
	Op      string // "get", "set" or "delete"
	Account string // "PROFILE/KIND"; never the secret
	Locked  bool   // the keyring is there but locked
	Timeout bool   // the keyring did not answer in time
	Err     error  // what go-keyring or D-Bus said
}

// Error says what failed and what to start.
func (e *KeyringUnavailableError) Error() string {
	var what string
	switch {
	case e.Timeout:
		what = i18n.T("the OS keyring (Secret Service) did not answer in time")
	case e.Locked:
		what = i18n.T("the OS keyring is locked")
	default:
		what = i18n.T("no OS keyring (Secret Service) is reachable")
	}
	msg := i18n.Sprintf("keyring %s %s: %s", e.Op, e.Account, what)
	if e.Err != nil {
		msg += " (" + e.Err.Error() + ")"
	}
	return msg + "; " + e.Advice()
}

// Advice tells the user what to start or unlock.
func (e *KeyringUnavailableError) Advice() string {
	if e.Timeout {
		return i18n.T("if a keyring password prompt is open, unlock the keyring and try again; otherwise the Secret Service hangs: restart it (e.g. 'gnome-keyring-daemon --replace --components=secrets') or log in again")
	}
	if e.Locked {
		return i18n.T("unlock it (log in to the desktop session, or run 'gnome-keyring-daemon --unlock' and type the keyring password)")
	}
	return i18n.T("start a Secret Service: in a desktop session gnome-keyring or KeePassXC with its Secret Service integration on; on a server run MailMover inside 'dbus-run-session' after 'gnome-keyring-daemon --unlock --components=secrets'")
}

// Unwrap returns the underlying error.
func (e *KeyringUnavailableError) Unwrap() error { return e.Err }

// SecretTooLargeError says the OS keyring refused a value as too large (Windows keeps at
// most 2,560 bytes, macOS about 3,000). Callers may keep such a value in memory instead:
// the access token is (auth.SecretsTokenStore). A refresh token is not split over several
// entries (a crash between the parts would lose the sign-in silently); it is this clear
// error instead, with advice.
type SecretTooLargeError struct {
	Account string // "PROFILE/KIND"
	Size    int    // length of the value in bytes
}

// Error names the account and the size, never the value, and what to do.
func (e *SecretTooLargeError) Error() string {
	msg := i18n.Sprintf("keyring set %s: the OS keyring refused a value of %d bytes as too large", e.Account, e.Size)
	if strings.HasSuffix(e.Account, "/"+SecretRefreshToken) {
		msg += "; " + i18n.T("the Windows Credential Manager keeps at most 2560 bytes per secret (the macOS Keychain about 3000), and this provider's refresh token is larger, so the sign-in cannot be kept on this system. Use the client-credentials flow (app-only sign-in, which needs no refresh token), or ask the provider's administrator for shorter tokens")
	}
	return msg
}

// DefaultKeyringTimeout bounds every call of Keyring(), so a hung Secret Service (or one
// waiting for an unlock prompt nobody sees) never hangs MailMover.
const DefaultKeyringTimeout = 8 * time.Second

// Keyring returns the OS keyring (go-keyring: Secret Service on Linux and the BSDs, the
// Keychain on macOS, the Credential Manager on Windows), service "mailmover", account
// "PROFILE/KIND". Each call ends within DefaultKeyringTimeout.
func Keyring() Secrets { return KeyringWithTimeout(DefaultKeyringTimeout) }

// KeyringWithTimeout is Keyring with another bound per call.
func KeyringWithTimeout(d time.Duration) Secrets { return osKeyring{timeout: d} }

type osKeyring struct{ timeout time.Duration }

// call runs f in a goroutine and gives up after k.timeout (the goroutine ends by itself when
// the keyring answers at last).
func (k osKeyring) call(op, account string, f func() (string, error)) (string, error) {
	type result struct {
		v   string
		err error
	}
	if err := sessionBusProblem(); err != nil {
		return "", &KeyringUnavailableError{Op: op, Account: account, Err: err}
	}
	ch := make(chan result, 1)
	go func() {
		// go-keyring can panic inside the Secret Service client (for example while a
		// locked collection asks for an unlock prompt); a panic in this goroutine would
		// kill the whole program, so it becomes an unavailable-keyring error.
		defer func() {
			if p := recover(); p != nil {
				ch <- result{"", &KeyringUnavailableError{Op: op, Account: account, Locked: true,
					Err: i18n.Errorf("the Secret Service client failed (%T) while it waited for an unlock prompt", p)}}
			}
		}()
		v, err := f()
		ch <- result{v, err}
	}()
	t := time.NewTimer(k.timeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-t.C:
		return "", &KeyringUnavailableError{Op: op, Account: account, Timeout: true,
			Err: i18n.Errorf("no answer within %s", k.timeout)}
	}
}

// mapKeyringError turns go-keyring's errors into ours.
func mapKeyringError(op, account string, err error) error {
	if err == nil {
		return nil
	}
	var ue *KeyringUnavailableError
	if errors.As(err, &ue) {
		return err
	}
	if errors.Is(err, keyring.ErrNotFound) {
		return i18n.Errorf("keyring %s %s: %w", op, account, ErrNoSecret)
	}
	msg := err.Error() // go-keyring's and D-Bus's words, not ours
	return &KeyringUnavailableError{
		Op: op, Account: account, Err: err,
		Locked: strings.Contains(msg, "unlock") || strings.Contains(msg, "locked") || // i18n:keep
			strings.Contains(msg, "Prompt") || strings.Contains(msg, "dismissed"),
	}
}

// Get reads a secret from the OS keyring.
func (k osKeyring) Get(profile, kind string) (string, error) {
	if err := checkSecretRef(profile, kind); err != nil {
		return "", err
	}
	acct := Account(profile, kind)
	v, err := k.call("get", acct, func() (string, error) { return keyring.Get(KeyringService, acct) })
	if err != nil {
		return "", mapKeyringError("get", acct, err)
	}
	return v, nil
}

// Set writes a secret to the OS keyring.
func (k osKeyring) Set(profile, kind, value string) error {
	if err := checkSecretRef(profile, kind); err != nil {
		return err
	}
	acct := Account(profile, kind)
	_, err := k.call("set", acct, func() (string, error) { return "", keyring.Set(KeyringService, acct, value) })
	if errors.Is(err, keyring.ErrSetDataTooBig) {
		return &SecretTooLargeError{Account: acct, Size: len(value)}
	}
	return mapKeyringError("set", acct, err)
}

// Delete removes a secret from the OS keyring; a missing one is not an error.
func (k osKeyring) Delete(profile, kind string) error {
	if err := checkSecretRef(profile, kind); err != nil {
		return err
	}
	acct := Account(profile, kind)
	_, err := k.call("delete", acct, func() (string, error) { return "", keyring.Delete(KeyringService, acct) })
	if errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	return mapKeyringError("delete", acct, err)
}

// MemorySecrets is a Secrets kept in memory, for tests and the demo. It is safe for
// concurrent use. SetUnavailable makes it fail like a missing keyring.
type MemorySecrets struct {
	mu          sync.Mutex
	m           map[string]string
	unavailable bool
	maxSize     int
}

// NewMemorySecrets returns an empty in-memory Secrets.
func NewMemorySecrets() *MemorySecrets { return &MemorySecrets{m: map[string]string{}} }

// SetUnavailable makes every later call fail with *KeyringUnavailableError (true) or work
// again (false).
func (s *MemorySecrets) SetUnavailable(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unavailable = v
}

// SetMaxSize makes Set refuse values longer than n bytes with *SecretTooLargeError, like
// the Windows and macOS keyrings; 0 means no limit.
func (s *MemorySecrets) SetMaxSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxSize = n
}

// Accounts returns the accounts ("PROFILE/KIND") that hold a secret, sorted.
func (s *MemorySecrets) Accounts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.m))
	for k := range s.m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (s *MemorySecrets) check(op, profile, kind string) (string, error) {
	if err := checkSecretRef(profile, kind); err != nil {
		return "", err
	}
	acct := Account(profile, kind)
	if s.unavailable {
		return "", &KeyringUnavailableError{Op: op, Account: acct, Err: i18n.New("memory keyring switched off")}
	}
	return acct, nil
}

// Get returns the stored secret or an error wrapping ErrNoSecret.
func (s *MemorySecrets) Get(profile, kind string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	acct, err := s.check("get", profile, kind)
	if err != nil {
		return "", err
	}
	v, ok := s.m[acct]
	if !ok {
		return "", i18n.Errorf("keyring get %s: %w", acct, ErrNoSecret)
	}
	return v, nil
}

// Set stores the secret.
func (s *MemorySecrets) Set(profile, kind, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	acct, err := s.check("set", profile, kind)
	if err != nil {
		return err
	}
	if s.maxSize > 0 && len(value) > s.maxSize {
		return &SecretTooLargeError{Account: acct, Size: len(value)}
	}
	s.m[acct] = value
	return nil
}

// Delete removes the secret; a missing one is not an error.
func (s *MemorySecrets) Delete(profile, kind string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	acct, err := s.check("delete", profile, kind)
	if err != nil {
		return err
	}
	delete(s.m, acct)
	return nil
}
