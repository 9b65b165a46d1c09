package auth

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"mailmover/store"
)

const testSAEmail = "mover@project.iam.gserviceaccount.com"

func serviceAccountJSON(t *testing.T, key *rsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "project", "private_key_id": "kid-1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": testSAEmail, "client_id": "1234567890",
		"token_uri": "https://oauth2.googleapis.com/token",
	})
	return string(b)
}

// googleTokenEndpoint checks a JWT bearer grant as Google documents it for a service
// account with domain-wide delegation: form grant_type + assertion only; RS256 with the
// key's kid, signed by pub; iss = the account, sub = the mailbox, scope, aud = the token
// endpoint, exp within an hour of iat. A mailbox other than allowed gets Google's
// unauthorized_client (delegation not granted for it).
func googleTokenEndpoint(t *testing.T, pub *rsa.PublicKey, allowed string) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		refuse := func(code, desc string) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
		}
		if r.PostForm.Get("grant_type") != JWTBearerGrantType || len(r.PostForm) != 2 {
			refuse("invalid_request", "want grant_type and assertion only")
			return
		}
		parts := strings.Split(r.PostForm.Get("assertion"), ".")
		if len(parts) != 3 {
			refuse("invalid_grant", "not a JWT")
			return
		}
		var h struct{ Alg, Typ, Kid string }
		var c struct {
			Iss, Sub, Scope, Aud string
			Iat, Exp             int64
		}
		hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
		cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		_ = json.Unmarshal(hb, &h)
		_ = json.Unmarshal(cb, &c)
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		switch {
		case h.Alg != "RS256" || h.Kid != "kid-1":
			refuse("invalid_grant", "header")
		case rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig) != nil:
			refuse("invalid_grant", "Invalid JWT Signature.")
		case c.Iss != testSAEmail || c.Aud != srv.URL+"/token" || c.Scope != GoogleMailScope:
			refuse("invalid_grant", "claims")
		case c.Exp <= time.Now().Unix() || c.Exp-c.Iat > 3600:
			refuse("invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
		case c.Sub != allowed:
			refuse("unauthorized_client", "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.")
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"ya29.for-` + c.Sub + `","token_type":"Bearer","expires_in":3599}`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A service account gets a token for the mailbox (sub) by the JWT bearer grant; one the
// delegation does not cover is Google's unauthorized_client, with advice that names the
// Admin console's domain-wide delegation and the account's client ID.
func TestServiceAccountJWTBearer(t *testing.T) {
	key := testKey(t, 0)
	srv := googleTokenEndpoint(t, &key.PublicKey, "invoices@example.com")
	sec := store.NewMemorySecrets()
	p := &store.Profile{Name: "gw", Setup: store.Setup{Username: "invoices@example.com"},
		OAuth2: store.OAuth2{Preset: store.PresetGoogle, Flow: store.FlowServiceAccount, TokenURL: srv.URL + "/token", Scope: GoogleMailScope}}
	if _, err := NewTokenSourceFor(p, sec, quiet); err == nil || !strings.Contains(err.Error(), "-profile gw service-account") {
		t.Fatalf("no key stored: %v", err)
	}
	_ = sec.Set("gw", store.SecretServiceAccount, serviceAccountJSON(t, key))
	src, err := NewTokenSourceFor(p, sec, quiet)
	if err != nil {
		t.Fatal(err)
	}
	at, err := src.AccessToken(context.Background(), false)
	if err != nil || at != "ya29.for-invoices@example.com" {
		t.Fatalf("AccessToken = %q, %v", at, err)
	}

	p.Setup.Username = "boss@example.com"
	src, _ = NewTokenSourceFor(p, sec, quiet)
	_, err = src.AccessToken(context.Background(), false)
	var te *TokenError
	if !errors.As(err, &te) || te.Code != "unauthorized_client" {
		t.Fatalf("another mailbox: %v", err)
	}
	_, advice := DescribeError(err)
	if !strings.Contains(advice, "domain-wide delegation") {
		t.Errorf("advice %q", advice)
	}

	// A wrong key is Google's invalid_grant.
	other := testKey(t, 1)
	_ = sec.Set("gw", store.SecretServiceAccount, serviceAccountJSON(t, other))
	p.Setup.Username = "invoices@example.com"
	src, _ = NewTokenSourceFor(p, sec, quiet)
	if _, err := src.AccessToken(context.Background(), false); !errors.As(err, &te) || te.Code != "invalid_grant" {
		t.Fatalf("wrong key: %v", err)
	}
}

func TestParseServiceAccountKey(t *testing.T) {
	good := serviceAccountJSON(t, testKey(t, 0))
	tests := []struct{ name, data, want string }{
		{"good", good, ""},
		{"not json", "-----BEGIN PRIVATE KEY-----", "not JSON"},
		{"other type", strings.Replace(good, `"service_account"`, `"authorized_user"`, 1), `"authorized_user"`},
		{"no key", `{"type":"service_account","client_email":"a@b"}`, "lacks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseServiceAccountKey([]byte(tt.data))
			if tt.want == "" {
				if err != nil || k.Email != testSAEmail || strings.Contains(k.String(), "PRIVATE") {
					t.Fatalf("%v, %v", k, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want …%s…", err, tt.want)
			}
		})
	}
}
