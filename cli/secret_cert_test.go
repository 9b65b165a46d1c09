package cli

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"mailmover/store"
)

// A client certificate is read whole from standard input (PEM key and certificate, many
// lines) and checked before it is stored; a file that is not one is refused without
// showing it.
func TestSecretSetClientCertificate(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "MailMover"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	bundle := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})) +
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))

	env, _, errb, sec, home := secretTestEnv(t, bundle)
	secretTestProfile(t, home, "app")
	if code := Run(context.Background(), []string{"secret", "set", "-profile", "app", "client-certificate"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if v, _ := sec.Get("app", store.SecretClientCertificate); v != bundle {
		t.Fatal("the bundle was not stored whole")
	}

	onlyKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	env, _, errb, sec, home = secretTestEnv(t, onlyKey)
	secretTestProfile(t, home, "app")
	if code := Run(context.Background(), []string{"secret", "set", "-profile", "app", "client-certificate"}, env); code != 1 ||
		!strings.Contains(errb.String(), "no certificate found") || strings.Contains(errb.String(), "BEGIN") {
		t.Fatalf("key without certificate: exit %d: %s", code, errb)
	}
	if _, err := sec.Get("app", store.SecretClientCertificate); err == nil {
		t.Error("a refused bundle was stored")
	}
}
