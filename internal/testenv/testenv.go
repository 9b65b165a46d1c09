// Package testenv gives tests the real parts that `make test` starts: a private Dovecot,
// the test OpenID provider (cmd/mm-testprovider), a Secret Service on a private D-Bus
// and an Xvfb display. It reads them from the MM_* environment variables that
// scripts/testenv-up.sh writes to testenv/run/env.sh (and scripts/test-in-session.sh
// sets for the keyring and the display).
//
// When a variable is missing the test is skipped, unless MM_REQUIRE_REAL=1 (set by
// `make test`): then it fails, so a broken test environment cannot pass silently.
//
// To run one package against the real parts by hand:
//
//	scripts/testenv-up.sh && . testenv/run/env.sh && go test ./imapsrc/
package testenv

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// RequireReal reports whether missing real parts fail tests instead of skipping them
// (MM_REQUIRE_REAL=1).
func RequireReal() bool { return os.Getenv("MM_REQUIRE_REAL") == "1" }

// need returns the values of the named variables, or skips (fails under
// MM_REQUIRE_REAL=1) the test when one is empty.
func need(t testing.TB, what string, names ...string) []string {
	t.Helper()
	vals := make([]string, len(names))
	var missing []string
	for i, n := range names {
		vals[i] = os.Getenv(n)
		if vals[i] == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("%s not available: %s not set (run `make test`, or scripts/testenv-up.sh and source testenv/run/env.sh)",
			what, strings.Join(missing, ", "))
		if RequireReal() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return vals
}

func port(t testing.TB, name, v string) int {
	t.Helper()
	p, err := strconv.Atoi(v)
	if err != nil || p <= 0 || p > 65535 {
		t.Fatalf("testenv: %s=%q is not a port number", name, v)
	}
	return p
}

// DovecotEnv describes the private Dovecot of the test environment.
type DovecotEnv struct {
	// Host is the address Dovecot listens on (127.0.0.1).
	Host string
	// IMAPPort serves plain IMAP with STARTTLS; IMAPSPort serves implicit TLS.
	IMAPPort, IMAPSPort int
	// CAFile is the PEM of Dovecot's self-signed certificate (SAN localhost, 127.0.0.1).
	CAFile string
	// User and Password sign in with PLAIN/LOGIN. User is also the OpenID provider's
	// user, so a token from OIDCToken opens the same mailbox with XOAUTH2/OAUTHBEARER.
	User, Password string
	// LogFile is Dovecot's log (empty when unknown), handy in failure messages.
	LogFile string
	// Conf is Dovecot's configuration file (empty when unknown), for doveadm.
	Conf string
}

// Dovecot returns the private Dovecot, or skips the test when none runs.
func Dovecot(t testing.TB) DovecotEnv {
	t.Helper()
	v := need(t, "Dovecot", "MM_DOVECOT_HOST", "MM_DOVECOT_IMAP_PORT", "MM_DOVECOT_IMAPS_PORT",
		"MM_DOVECOT_CA", "MM_DOVECOT_USER", "MM_DOVECOT_PASSWORD")
	return DovecotEnv{
		Host:      v[0],
		IMAPPort:  port(t, "MM_DOVECOT_IMAP_PORT", v[1]),
		IMAPSPort: port(t, "MM_DOVECOT_IMAPS_PORT", v[2]),
		CAFile:    v[3],
		User:      v[4],
		Password:  v[5],
		LogFile:   os.Getenv("MM_DOVECOT_LOG"),
		Conf:      os.Getenv("MM_DOVECOT_CONF"),
	}
}

// IMAPAddr is host:port of the STARTTLS listener.
func (d DovecotEnv) IMAPAddr() string { return net.JoinHostPort(d.Host, strconv.Itoa(d.IMAPPort)) }

// IMAPSAddr is host:port of the implicit-TLS listener.
func (d DovecotEnv) IMAPSAddr() string { return net.JoinHostPort(d.Host, strconv.Itoa(d.IMAPSPort)) }

// CertPool holds Dovecot's certificate.
func (d DovecotEnv) CertPool(t testing.TB) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(d.CAFile)
	if err != nil {
		t.Fatalf("testenv: read Dovecot's certificate: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("testenv: %s holds no PEM certificate", d.CAFile)
	}
	return pool
}

// TLSConfig trusts Dovecot's certificate and verifies it for d.Host.
func (d DovecotEnv) TLSConfig(t testing.TB) *tls.Config {
	t.Helper()
	return &tls.Config{RootCAs: d.CertPool(t), ServerName: d.Host, MinVersion: tls.VersionTLS12}
}

// LogTail returns the last n lines of Dovecot's log, for failure messages.
func (d DovecotEnv) LogTail(n int) string {
	if d.LogFile == "" {
		return "(no Dovecot log known)"
	}
	data, err := os.ReadFile(d.LogFile)
	if err != nil {
		return "(Dovecot log unreadable: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
