package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"mailmover/internal/oidcdev"
	"mailmover/store"
)

var (
	testKeysOnce sync.Once
	testKeys     [2]*rsa.PrivateKey
)

// testKey returns one of two RSA keys made once for the package's tests.
func testKey(t *testing.T, i int) *rsa.PrivateKey {
	t.Helper()
	testKeysOnce.Do(func() {
		for j := range testKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			testKeys[j] = k
		}
	})
	return testKeys[i]
}

// testCert makes a self-signed certificate for key, valid from notBefore to notAfter.
func testCert(t *testing.T, key *rsa.PrivateKey, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "MailMover test app"},
		NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pemOf(t *testing.T, key any, certs ...*x509.Certificate) []byte {
	t.Helper()
	var out []byte
	switch k := key.(type) {
	case *rsa.PrivateKey:
		out = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
	case nil:
	default:
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		out = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// certProvider is a token endpoint that authenticates clientID by a client assertion,
// checked against its registered certificates with oidcdev.VerifyClientAssertion (the
// rules Microsoft Entra documents), and refuses a client secret.
type certProvider struct {
	srv      *httptest.Server
	clientID string
	certs    []*x509.Certificate
	mu       sync.Mutex
	form     map[string][]string
}

func newCertProvider(t *testing.T, clientID string, certs ...*x509.Certificate) *certProvider {
	p := &certProvider{clientID: clientID, certs: certs}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		p.mu.Lock()
		p.form = r.PostForm
		p.mu.Unlock()
		refuse := func(code, desc string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
		}
		switch {
		case r.PostForm.Get("grant_type") != "client_credentials":
			refuse("unsupported_grant_type", "")
		case r.PostForm.Get("client_secret") != "" || r.Header.Get("Authorization") != "":
			refuse("invalid_client", "a secret was sent")
		case r.PostForm.Get("client_assertion_type") != ClientAssertionType:
			refuse("invalid_client", "no client assertion")
		default:
			if err := oidcdev.VerifyClientAssertion(r.PostForm.Get("client_assertion"), p.clientID, p.tokenURL(), p.certs, time.Now()); err != nil {
				refuse("invalid_client", "AADSTS700027: "+err.Error())
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"app-token","token_type":"Bearer","expires_in":3600}`))
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *certProvider) tokenURL() string { return p.srv.URL + "/token" }

func certSource(p *certProvider, c *ClientCertificate, alg string) *ClientCredentialsSource {
	s := NewClientCredentialsSource(Config{Preset: store.PresetCustom, Flow: store.FlowClientCredentials,
		ClientID: p.clientID, TokenURL: p.tokenURL(), Scopes: []string{"https://outlook.office365.com/.default"},
		ClientAuth: store.ClientAuthCertificate, ClientCert: c, AssertionAlg: alg})
	s.Logger, s.Profile = quiet, "app"
	return s
}

// A certificate's assertion is accepted by a verifier that checks what Entra checks,
// signed PS256 (Entra's documented choice) and RS256; no secret goes out.
func TestClientCertificateAssertionAccepted(t *testing.T) {
	key := testKey(t, 0)
	cert := testCert(t, key, time.Now().Add(-time.Hour), time.Now().Add(365*24*time.Hour))
	c, err := ParseClientCertificate(pemOf(t, key, cert))
	if err != nil {
		t.Fatal(err)
	}
	p := newCertProvider(t, "app-id", cert)
	for _, alg := range []string{AlgPS256, AlgRS256} {
		at, err := certSource(p, c, alg).AccessToken(context.Background(), false)
		if err != nil || at != "app-token" {
			t.Fatalf("%s: AccessToken = %q, %v", alg, at, err)
		}
	}
	p.mu.Lock()
	form := p.form
	p.mu.Unlock()
	if form["client_id"][0] != "app-id" || form["scope"][0] != "https://outlook.office365.com/.default" {
		t.Errorf("form %v", form)
	}
	if c.String() == "" || strings.Contains(c.String(), "PRIVATE") || strings.Contains(Config{ClientCert: c}.String(), "PRIVATE") {
		t.Error("a description shows the key")
	}
}

// What a provider must refuse is refused, and the refusal reaches the caller as the
// provider's invalid_client: a key that is not the certificate's, an expired
// certificate, an assertion without x5t#S256, one for another audience, and a
// certificate that is not registered.
func TestClientCertificateRefusals(t *testing.T) {
	key, other := testKey(t, 0), testKey(t, 1)
	now := time.Now()
	good := testCert(t, key, now.Add(-time.Hour), now.Add(365*24*time.Hour))
	expired := testCert(t, key, now.Add(-48*time.Hour), now.Add(-time.Hour))
	unregistered := testCert(t, other, now.Add(-time.Hour), now.Add(time.Hour))
	p := newCertProvider(t, "app-id", good, expired)

	tests := []struct {
		name      string
		assertion func() string // nil: the source's own
		cert      *ClientCertificate
		want      string
	}{
		{"wrong key", nil, &ClientCertificate{Cert: good, key: other}, "does not verify"},
		{"expired certificate", nil, &ClientCertificate{Cert: expired, key: key}, "not valid now"},
		{"unregistered certificate", nil, &ClientCertificate{Cert: unregistered, key: other}, "names no certificate"},
		{"missing x5t#S256", func() string {
			a, _ := signJWT(key, AlgPS256, map[string]string{"alg": AlgPS256, "typ": "JWT", "x5t": "sha1"},
				map[string]any{"aud": p.tokenURL(), "iss": "app-id", "sub": "app-id", "jti": "1", "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix()})
			return a
		}, nil, "no x5t#S256"},
		{"aud mismatch", func() string {
			a, _ := (&ClientCertificate{Cert: good, key: key}).Assertion("app-id", "https://login.example/other/token", AlgPS256, now)
			return a
		}, nil, "is not the token endpoint"},
		{"iss is not the client", func() string {
			a, _ := (&ClientCertificate{Cert: good, key: key}).Assertion("someone-else", p.tokenURL(), AlgPS256, now)
			return a
		}, nil, "must both be the client ID"},
		{"expired assertion", func() string {
			a, _ := (&ClientCertificate{Cert: good, key: key}).Assertion("app-id", p.tokenURL(), AlgPS256, now.Add(-AssertionLifetime-2*time.Minute))
			return a
		}, nil, "expired at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.assertion != nil {
				err := oidcdev.VerifyClientAssertion(tt.assertion(), "app-id", p.tokenURL(), p.certs, time.Now())
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("verifier: %v, want …%s…", err, tt.want)
				}
				return
			}
			_, err := certSource(p, tt.cert, AlgPS256).AccessToken(context.Background(), false)
			var te *TokenError
			if !errors.As(err, &te) || te.Code != "invalid_client" || !strings.Contains(te.Description, tt.want) {
				t.Fatalf("AccessToken: %v, want invalid_client …%s…", err, tt.want)
			}
			if te.Profile != "app" {
				t.Errorf("the error does not name the profile: %+v", te)
			}
		})
	}
	// The good certificate passes the same verifier (the refusals above are not
	// the verifier refusing everything).
	if _, err := certSource(p, &ClientCertificate{Cert: good, key: key}, AlgPS256).AccessToken(context.Background(), false); err != nil {
		t.Fatalf("good certificate: %v", err)
	}
}

func TestParseClientCertificate(t *testing.T) {
	key, other := testKey(t, 0), testKey(t, 1)
	now := time.Now()
	cert := testCert(t, key, now.Add(-time.Hour), now.Add(time.Hour))
	otherCert := testCert(t, other, now.Add(-time.Hour), now.Add(time.Hour))
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(key)
	tests := []struct {
		name string
		data []byte
		want string // "" = accepted
	}{
		{"pkcs1 key and cert", pemOf(t, key, cert), ""},
		{"pkcs8 key, cert first, chain", append(pemOf(t, nil, otherCert, cert), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})...), ""},
		{"key of another certificate", pemOf(t, key, otherCert), "does not belong"},
		{"no certificate", pemOf(t, key), "no certificate"},
		{"no key", pemOf(t, nil, cert), "no private key"},
		{"encrypted key", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), "encrypted"},
		{"ec key", pemOf(t, ec, cert), "RSA"},
		{"garbage", []byte("not pem"), "no private key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseClientCertificate(tt.data)
			if tt.want == "" {
				if err != nil || c.Cert.SerialNumber.Cmp(cert.SerialNumber) != 0 {
					t.Fatalf("got %v, %v", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want …%s…", err, tt.want)
			}
			if strings.Contains(err.Error(), "BEGIN") {
				t.Error("the error shows the PEM")
			}
		})
	}
}

// The key comes from the keyring or from a file the profile names; a file others may
// read is refused (Unix), and nothing at all is an error that names the command.
func TestLoadClientCertificate(t *testing.T) {
	key := testKey(t, 0)
	cert := testCert(t, key, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	data := pemOf(t, key, cert)
	o := store.OAuth2{Flow: store.FlowClientCredentials, ClientAuth: store.ClientAuthCertificate}

	sec := store.NewMemorySecrets()
	if _, err := LoadClientCertificate("app", o, sec); err == nil || !strings.Contains(err.Error(), "mailmover secret set -profile app client-certificate") {
		t.Fatalf("nothing stored: %v", err)
	}
	_ = sec.Set("app", store.SecretClientCertificate, string(data))
	if c, err := LoadClientCertificate("app", o, sec); err != nil || !c.Cert.Equal(cert) {
		t.Fatalf("from the keyring: %v", err)
	}

	path := filepath.Join(t.TempDir(), "app.pem")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	o.ClientCertificateFile = path
	if c, err := LoadClientCertificate("app", o, store.NewMemorySecrets()); err != nil || !c.Cert.Equal(cert) {
		t.Fatalf("from the file: %v", err)
	}
	if runtime.GOOS != "windows" {
		_ = os.Chmod(path, 0o640)
		_, err := LoadClientCertificate("app", o, sec)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != "client_certificate_file" || !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("group-readable file: %v", err)
		}
	}
}

// The certificate's end is warned about within 30 days, and when past; a secret's
// expiry is not known, so nothing is said.
func TestCredentialWarning(t *testing.T) {
	key := testKey(t, 0)
	now := time.Now()
	p := &store.Profile{Name: "app", OAuth2: store.OAuth2{Flow: store.FlowClientCredentials, ClientAuth: store.ClientAuthCertificate}}
	tests := []struct {
		name     string
		notAfter time.Time
		want     string
	}{
		{"far", now.Add(90 * Day), ""},
		{"in 10 days", now.Add(10*Day + time.Hour), "in 10 days"},
		{"expired", now.Add(-Day), "expired on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sec := store.NewMemorySecrets()
			_ = sec.Set("app", store.SecretClientCertificate, string(pemOf(t, key, testCert(t, key, now.Add(-100*Day), tt.notAfter))))
			w, advice := CredentialWarning(p, sec, now)
			if tt.want == "" {
				if w != "" {
					t.Fatalf("warning %q", w)
				}
				return
			}
			if !strings.Contains(w, tt.want) || !strings.Contains(advice, "-profile app client-certificate") {
				t.Fatalf("warning %q, advice %q", w, advice)
			}
		})
	}
	secretProfile := &store.Profile{Name: "s", OAuth2: store.OAuth2{Flow: store.FlowClientCredentials}}
	if w, _ := CredentialWarning(secretProfile, store.NewMemorySecrets(), now); w != "" {
		t.Errorf("a secret's profile: %q", w)
	}
}

// NewTokenSourceFor picks the certificate for client_auth = "certificate" and needs no
// client secret; without the certificate it says how to store one.
func TestNewTokenSourceForCertificate(t *testing.T) {
	key := testKey(t, 0)
	cert := testCert(t, key, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	pr := newCertProvider(t, "app-id", cert)
	p := &store.Profile{Name: "app", OAuth2: store.OAuth2{Preset: store.PresetCustom, Flow: store.FlowClientCredentials,
		ClientAuth: store.ClientAuthCertificate, ClientID: "app-id", TokenURL: pr.tokenURL(), Scope: "https://outlook.office365.com/.default"}}
	sec := store.NewMemorySecrets()
	if _, err := NewTokenSourceFor(p, sec, quiet); err == nil || !strings.Contains(err.Error(), "-profile app client-certificate") {
		t.Fatalf("no certificate: %v", err)
	}
	_ = sec.Set("app", store.SecretClientCertificate, string(pemOf(t, key, cert)))
	src, err := NewTokenSourceFor(p, sec, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if at, err := src.AccessToken(context.Background(), false); err != nil || at != "app-token" {
		t.Fatalf("AccessToken = %q, %v", at, err)
	}
}
