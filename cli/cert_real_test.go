package cli

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailmover/internal/oidcdev"
	"mailmover/internal/testenv"
	"mailmover/store"
)

// An app-only profile with a certificate (client_auth = "certificate", the key and
// certificate in a file of mode 0600) gets its token from the real test provider, which
// checks the assertion as Entra does, and `mailmover check` signs in to Dovecot with it.
// The certificate ends in 20 days, so check also warns about that.
func TestRealCertificateCheck(t *testing.T) {
	o := testenv.OIDC(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "MailMover real test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(20 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := oidcdev.RegisterClientCertificateAt(ctx, o.Issuer, certPEM); errors.Is(err, oidcdev.ErrNoControl) {
		t.Skip("the running test provider predates certificate clients; restart the test environment")
	} else if err != nil {
		t.Fatal(err)
	}

	env, out, errb, _, home := secretTestEnv(t, "")
	realProfile(t, home, "cert", store.FlowClientCredentials, oidcdev.CertClientID)
	keyFile := filepath.Join(t.TempDir(), "app.pem")
	bundle := append(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), certPEM...)
	if err := os.WriteFile(keyFile, bundle, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := store.LoadProfile(home, "cert")
	if err != nil {
		t.Fatal(err)
	}
	p.OAuth2.ClientAuth, p.OAuth2.ClientCertificateFile = store.ClientAuthCertificate, keyFile
	if err := store.SaveProfile(home, p); err != nil {
		t.Fatal(err)
	}
	if code := Run(ctx, []string{"check", "-profile", "cert"}, env); code != 0 {
		t.Fatalf("check with a certificate: exit %d\n%s\n%s", code, out, errb)
	}
	if all := out.String() + errb.String(); !strings.Contains(all, "client certificate") || !strings.Contains(all, "in 19 days") && !strings.Contains(all, "in 20 days") {
		t.Errorf("no warning about the certificate's end:\n%s\n%s", out, errb)
	}
	if strings.Contains(out.String()+errb.String(), "PRIVATE KEY") {
		t.Error("the key was shown")
	}
}
