package oidcdev

// Client authentication with a certificate (RFC 7523 section 2.2, OpenID Connect's
// private_key_jwt) for the client-credentials grant, checked as Microsoft Entra documents
// it: a JWT signed PS256 or RS256 whose x5t#S256 header names a registered certificate,
// with aud = the token endpoint, iss = sub = the client ID, a jti, and a short life.
//
// zitadel/oidc's op (v3.52) does not do this itself: its client-credentials grant asks
// the storage for client ID and secret only (LegacyServer.VerifyClient), and its JWT
// profile verifier wants the issuer, not the token endpoint, as the audience. So a small
// handler in front of the token endpoint checks the assertion and then hands zitadel the
// service user's credentials: the token it issues is an ordinary one (introspection,
// Dovecot), acting for the static user.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CertClientID is the client that authenticates with a certificate. Its certificates are
// registered at run time: [Server.RegisterClientCertificate], or POST
// /test/client-certificate with the PEM certificate as the body (test controls).
const CertClientID = "mailmover-cert"

// PathTestClientCertificate registers a certificate for CertClientID (TEST ONLY; loopback
// clients; the body is one PEM certificate, never a key).
const PathTestClientCertificate = "/test/client-certificate"

const (
	clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// maxAssertionLife is the longest exp − nbf accepted (Entra's own clients use 10 min).
	maxAssertionLife = 10 * time.Minute
	// clockSkew is what nbf, iat and exp may be off by.
	clockSkew = time.Minute
)

// AssertionError is why a client assertion was refused.
type AssertionError struct{ Reason string }

func (e *AssertionError) Error() string { return "client assertion refused: " + e.Reason }

func refuse(format string, a ...any) error { return &AssertionError{Reason: fmt.Sprintf(format, a...)} }

// VerifyClientAssertion checks assertion as the client clientID's authentication at the
// token endpoint tokenURL, at now, against the registered certificates: the x5t#S256
// header must name one of them (and it must be valid at now), the signature (PS256 or
// RS256) must verify with its key, aud must be tokenURL, iss and sub clientID, jti set,
// nbf/iat not in the future, exp not past and at most 10 minutes after nbf.
func VerifyClientAssertion(assertion, clientID, tokenURL string, certs []*x509.Certificate, now time.Time) error {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return refuse("not a signed JWT (want three parts)")
	}
	var header struct {
		Alg     string `json:"alg"`
		Typ     string `json:"typ"`
		X5TS256 string `json:"x5t#S256"`
	}
	if err := decodePart(parts[0], &header); err != nil {
		return refuse("header: %v", err)
	}
	if header.X5TS256 == "" {
		return refuse("no x5t#S256 header naming the certificate")
	}
	var cert *x509.Certificate
	for _, c := range certs {
		sum := sha256.Sum256(c.Raw)
		if base64.RawURLEncoding.EncodeToString(sum[:]) == header.X5TS256 {
			cert = c
		}
	}
	if cert == nil {
		return refuse("x5t#S256 %q names no certificate registered for the client", header.X5TS256)
	}
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return refuse("the certificate is not valid now (valid %s to %s)", cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return refuse("the certificate's key is not RSA")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return refuse("signature: %v", err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch header.Alg {
	case "PS256":
		err = rsa.VerifyPSS(pub, crypto.SHA256, sum[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "RS256":
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
	default:
		return refuse("alg %q (want PS256 or RS256)", header.Alg)
	}
	if err != nil {
		return refuse("the signature does not verify with the certificate's key")
	}
	var claims struct {
		Aud audience `json:"aud"`
		Iss string   `json:"iss"`
		Sub string   `json:"sub"`
		Jti string   `json:"jti"`
		Exp *int64   `json:"exp"`
		Nbf *int64   `json:"nbf"`
		Iat *int64   `json:"iat"`
	}
	if err := decodePart(parts[1], &claims); err != nil {
		return refuse("claims: %v", err)
	}
	switch {
	case !slices.Contains(claims.Aud, tokenURL):
		return refuse("aud %q is not the token endpoint %s", claims.Aud, tokenURL)
	case claims.Iss != clientID || claims.Sub != clientID:
		return refuse("iss %q and sub %q must both be the client ID %s", claims.Iss, claims.Sub, clientID)
	case claims.Jti == "":
		return refuse("no jti")
	case claims.Exp == nil || claims.Nbf == nil:
		return refuse("exp and nbf are required")
	case now.After(time.Unix(*claims.Exp, 0).Add(clockSkew)):
		return refuse("expired at %s", time.Unix(*claims.Exp, 0).UTC().Format(time.RFC3339))
	case time.Unix(*claims.Nbf, 0).After(now.Add(clockSkew)):
		return refuse("not valid before %s", time.Unix(*claims.Nbf, 0).UTC().Format(time.RFC3339))
	case claims.Iat != nil && time.Unix(*claims.Iat, 0).After(now.Add(clockSkew)):
		return refuse("issued in the future")
	case time.Unix(*claims.Exp, 0).Sub(time.Unix(*claims.Nbf, 0)) > maxAssertionLife:
		return refuse("lives longer than %s", maxAssertionLife)
	}
	return nil
}

// audience reads aud as a string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

func decodePart(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// certClient is the bookkeeping of CertClientID: its certificates and the jti values
// seen (an assertion is accepted once).
type certClient struct {
	mu    sync.Mutex
	certs []*x509.Certificate
	seen  map[string]time.Time // jti → when it may be forgotten
	now   func() time.Time
}

func newCertClient() *certClient { return &certClient{seen: map[string]time.Time{}, now: time.Now} }

// RegisterClientCertificate registers a certificate for CertClientID (TEST ONLY: a real
// provider has it uploaded to the app registration).
func (s *Server) RegisterClientCertificate(cert *x509.Certificate) {
	s.certs.mu.Lock()
	defer s.certs.mu.Unlock()
	s.certs.certs = append(s.certs.certs, cert)
}

// RegisterClientCertificateAt registers certPEM for CertClientID at the provider at
// issuer (a separate mm-testprovider) through its test control. TEST ONLY.
func RegisterClientCertificateAt(ctx context.Context, issuer string, certPEM []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(issuer, "/")+PathTestClientCertificate, bytes.NewReader(certPEM))
	if err != nil {
		return fmt.Errorf("oidcdev: %w", err)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("oidcdev: test control %s: %w", PathTestClientCertificate, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("oidcdev: test control %s: %w (HTTP %d)", PathTestClientCertificate, ErrNoControl, resp.StatusCode)
	}
	return nil
}

// ErrNoControl means the provider does not serve the test control asked for (an older
// mm-testprovider, or one started with -test-controls=false).
var ErrNoControl = errors.New("the provider does not serve this test control")

// serveCertControl adds POST /test/client-certificate to mux.
func (s *Server) serveCertControl(mux *http.ServeMux) {
	mux.HandleFunc("POST "+PathTestClientCertificate, func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			http.Error(w, "test controls answer to loopback clients only", http.StatusForbidden)
			return
		}
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		b, _ := pem.Decode(body)
		if b == nil || b.Type != "CERTIFICATE" {
			http.Error(w, "want one PEM certificate", http.StatusBadRequest)
			return
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			http.Error(w, "not a certificate", http.StatusBadRequest)
			return
		}
		s.RegisterClientCertificate(c)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"client_id":"` + CertClientID + `"}`))
	})
}

// certTokenShim handles client-credentials requests of CertClientID at the token
// endpoint: it checks the assertion and passes the request on as the service user's
// (client ID and secret), or answers invalid_client. Everything else goes to next as is.
func (s *Server) certTokenShim(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != PathToken {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read the request", http.StatusBadRequest)
			return
		}
		form, err := url.ParseQuery(string(body))
		if err != nil || form.Get("client_assertion") == "" {
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(w, r)
			return
		}
		if form.Get("client_assertion_type") != clientAssertionType {
			tokenRefusal(w, http.StatusBadRequest, "invalid_request", "client_assertion_type must be "+clientAssertionType)
			return
		}
		if form.Get("grant_type") != "client_credentials" {
			tokenRefusal(w, http.StatusBadRequest, "unsupported_grant_type", "this test provider takes client assertions for client_credentials only")
			return
		}
		if id := form.Get("client_id"); id != "" && id != CertClientID {
			tokenRefusal(w, http.StatusUnauthorized, "invalid_client", "client "+id+" does not authenticate with a certificate")
			return
		}
		if err := s.certs.verify(form.Get("client_assertion"), s.TokenURL()); err != nil {
			tokenRefusal(w, http.StatusUnauthorized, "invalid_client", err.Error())
			return
		}
		pass := url.Values{"grant_type": {"client_credentials"}, "client_id": {ServiceClientID}, "client_secret": {ServiceClientSecret}}
		if sc := form.Get("scope"); sc != "" {
			pass.Set("scope", sc)
		}
		enc := pass.Encode()
		r2 := r.Clone(r.Context())
		r2.Body = io.NopCloser(strings.NewReader(enc))
		r2.ContentLength = int64(len(enc))
		r2.Header.Set("Content-Length", strconv.Itoa(len(enc)))
		r2.Header.Del("Authorization")
		next.ServeHTTP(w, r2)
	})
}

// verify checks an assertion of CertClientID and refuses one seen before (jti).
func (c *certClient) verify(assertion, tokenURL string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if err := VerifyClientAssertion(assertion, CertClientID, tokenURL, c.certs, now); err != nil {
		return err
	}
	var claims struct {
		Jti string `json:"jti"`
	}
	_ = decodePart(strings.Split(assertion, ".")[1], &claims)
	for k, until := range c.seen {
		if now.After(until) {
			delete(c.seen, k)
		}
	}
	if _, ok := c.seen[claims.Jti]; ok {
		return refuse("jti %q was used before (replay)", claims.Jti)
	}
	c.seen[claims.Jti] = now.Add(maxAssertionLife + clockSkew)
	return nil
}

func tokenRefusal(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}
