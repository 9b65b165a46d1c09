package auth

import (
	"context"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"mailmover/internal/oidcdev"
	"mailmover/store"
)

// The test provider (zitadel-based, internal/oidcdev) authenticates its certificate
// client by the assertion, as Entra does, and issues a real token: introspection names
// the user, as Dovecot's oauth2 passdb will ask. A certificate it does not know is
// invalid_client.
func TestCertificateAtTestProvider(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := oidcdev.Start(ctx, oidcdev.Options{TestControls: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	key := testKey(t, 0)
	cert := testCert(t, key, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})

	p := &store.Profile{Name: "app", OAuth2: store.OAuth2{Preset: store.PresetCustom, Flow: store.FlowClientCredentials,
		ClientAuth: store.ClientAuthCertificate, ClientID: oidcdev.CertClientID, TokenURL: srv.TokenURL(), Scope: "openid profile"}}
	sec := store.NewMemorySecrets()
	_ = sec.Set("app", store.SecretClientCertificate, string(pemOf(t, key, cert)))
	src, err := NewTokenSourceFor(p, sec, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.AccessToken(ctx, false); err == nil {
		t.Fatal("a token for a certificate the provider does not know")
	} else if te := (*TokenError)(nil); !errors.As(err, &te) || te.Code != "invalid_client" || !strings.Contains(te.Description, "names no certificate") {
		t.Fatalf("unknown certificate: %v", err)
	}

	if err := oidcdev.RegisterClientCertificateAt(ctx, srv.Issuer(), certPEM); err != nil {
		t.Fatal(err)
	}
	at, err := src.AccessToken(ctx, true)
	if err != nil {
		t.Fatalf("AccessToken: %v", err)
	}
	if user, ok := srv.Introspect(ctx, at); !ok || user != srv.User() {
		t.Fatalf("introspection: %q, %v", user, ok)
	}
}
