package imapsrc

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"

	"mailmover/i18n"
)

// germanTranslator installs the German texts of imapsrc.de.json as translator; restore
// English with i18n.SetTranslator(nil).
func germanTranslator(t *testing.T) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "i18n", "translations", "imapsrc.de.json"))
	if err != nil {
		t.Fatal(err)
	}
	var de map[string]string
	if err := json.Unmarshal(data, &de); err != nil {
		t.Fatal(err)
	}
	i18n.SetTranslator(func(k string) string {
		if v, ok := de[k]; ok {
			return v
		}
		return k
	})
}

// TestGermanErrors checks that TLS and sign-in errors come out in German when a German
// translator is installed. Not parallel: the translator is global.
func TestGermanErrors(t *testing.T) {
	germanTranslator(t)
	defer i18n.SetTranslator(nil)

	cfg := &Config{Host: "mail.example.com", Port: 993}
	var e *Error
	if err := tlsError(cfg, x509.UnknownAuthorityError{}); !asError(err, &e) {
		t.Fatalf("tlsError = %T", err)
	}
	if want := "das Zertifikat von mail.example.com ist von einer unbekannten Zertifizierungsstelle signiert"; e.Reason != want {
		t.Errorf("TLS reason = %q, want %q", e.Reason, want)
	}
	if !strings.HasPrefix(e.Advice, "Verwendet der Server ein privates oder selbstsigniertes Zertifikat, setzen Sie [security] ca_file") {
		t.Errorf("TLS advice = %q", e.Advice)
	}

	c := &Client{cfg: Config{Host: "mail.example.com", Port: 993, Username: "a@example.com"}}
	err := c.authError(context.Background(), "PLAIN",
		&imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "Authentication failed."}, nil)
	if !asError(err, &e) || e.Kind != KindAuth {
		t.Fatalf("authError = %v", err)
	}
	if want := "der Server hat Benutzername oder Passwort abgelehnt; der Server meldet: NO [AUTHENTICATIONFAILED] Authentication failed."; e.Reason != want {
		t.Errorf("sign-in reason = %q, want %q", e.Reason, want)
	}
	if !strings.HasPrefix(e.Advice, "Der Server hat Benutzername oder Passwort abgelehnt. Prüfen Sie beides") {
		t.Errorf("sign-in advice = %q", e.Advice)
	}
	if e.Op != "Anmeldung (PLAIN)" {
		t.Errorf("sign-in op = %q", e.Op)
	}

	i18n.SetTranslator(nil)
	if err := tlsError(cfg, x509.UnknownAuthorityError{}); !strings.Contains(err.Error(), "signed by an unknown authority") {
		t.Errorf("English after the translator is gone: %v", err)
	}
}

func asError(err error, e **Error) bool {
	x, ok := err.(*Error)
	*e = x
	return ok
}
