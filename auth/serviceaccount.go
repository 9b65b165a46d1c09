package auth

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"strings"
	"time"

	"mailmover/i18n"
	"mailmover/store"
)

// JWTBearerGrantType is the grant_type of the JWT bearer grant (RFC 7523 section 2.1),
// which a Google service account uses to get a token.
const JWTBearerGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer" // i18n:keep

// ServiceAccountKey is a Google service account's JSON key (as the Google Cloud console
// downloads it), for flow = "service_account": the account's e-mail address and private
// key. With domain-wide delegation it gets tokens for any mailbox of the Workspace
// domain. Its String never shows the key.
type ServiceAccountKey struct {
	// Email is the service account's address (client_email), the assertion's issuer.
	Email string
	// ClientID is its numeric client ID, the one an admin allows in domain-wide
	// delegation.
	ClientID string
	// KeyID names the key (private_key_id), sent as kid.
	KeyID string
	key   *rsa.PrivateKey
}

// String names the account, never the key.
func (k *ServiceAccountKey) String() string {
	return i18n.Sprintf("service account %s (client ID %s)", k.Email, k.ClientID)
}

// ParseServiceAccountKey reads a service account's JSON key. Errors never hold the key.
func ParseServiceAccountKey(data []byte) (*ServiceAccountKey, error) {
	var f struct {
		Type         string `json:"type"`
		ClientEmail  string `json:"client_email"`
		ClientID     string `json:"client_id"`
		PrivateKeyID string `json:"private_key_id"`
		PrivateKey   string `json:"private_key"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, i18n.New("the service account key is not JSON: give the JSON key file the Google Cloud console downloads (IAM → Service accounts → Keys → Add key → JSON)")
	}
	if f.Type != "service_account" { // i18n:keep (the key file's value)
		return nil, i18n.Errorf("the key file's type is %q, not \"service_account\": give a service account's JSON key", f.Type)
	}
	if f.ClientEmail == "" || f.PrivateKey == "" {
		return nil, i18n.New("the service account key lacks client_email or private_key")
	}
	b, _ := pem.Decode([]byte(f.PrivateKey))
	if b == nil {
		return nil, i18n.New("the service account key's private_key is not PEM")
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
		key, _ = k.(*rsa.PrivateKey)
	} else if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
		key = k
	}
	if key == nil {
		return nil, i18n.New("the service account key's private_key is not an RSA key")
	}
	return &ServiceAccountKey{Email: f.ClientEmail, ClientID: f.ClientID, KeyID: f.PrivateKeyID, key: key}, nil
}

// Assertion returns the JWT of the JWT bearer grant (RFC 7523 section 2.1, Google's
// "OAuth 2.0 for server to server applications"): header RS256 with kid; claims iss =
// the service account, sub = the mailbox it acts for (domain-wide delegation), scope,
// aud = the token endpoint, iat = now and exp = now + AssertionLifetime.
func (k *ServiceAccountKey) Assertion(subject, tokenURL string, scopes []string, now time.Time) (string, error) {
	if subject == "" {
		return "", &ConfigError{Field: "setup.username", Reason: i18n.T("a service account acts for a mailbox: set [setup] username to the mailbox's address")}
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	header := map[string]string{"alg": AlgRS256, "typ": "JWT"}
	if k.KeyID != "" {
		header["kid"] = k.KeyID
	}
	claims := map[string]any{
		"iss":   k.Email,
		"sub":   subject,
		"scope": strings.Join(scopes, " "),
		"aud":   tokenURL,
		"iat":   now.Unix(),
		"exp":   now.Add(AssertionLifetime).Unix(),
		"jti":   hex.EncodeToString(jti),
	}
	return signJWT(k.key, AlgRS256, header, claims)
}

// LoadServiceAccount reads the JSON key of a profile with flow = "service_account": from
// service_account_file when set, else from the keyring (store.SecretServiceAccount).
func LoadServiceAccount(profile string, o store.OAuth2, sec store.Secrets) (*ServiceAccountKey, error) {
	data, err := appCredential(profile, sec, store.SecretServiceAccount, "service_account_file", o.ServiceAccountFile,
		missingServiceAccount(profile))
	if err != nil {
		return nil, err
	}
	k, err := ParseServiceAccountKey(data)
	if err != nil {
		field := store.SecretServiceAccount
		if o.ServiceAccountFile != "" {
			field = "service_account_file"
		}
		return nil, &ConfigError{Profile: profile, Field: field, Reason: err.Error()}
	}
	return k, nil
}

func missingServiceAccount(profile string) error {
	return &ConfigError{Profile: profile, Field: store.SecretServiceAccount,
		Reason: i18n.Sprintf("flow = \"service_account\" needs the service account's JSON key: store it with 'mailmover secret set -profile %s service-account < key.json', or name the file (chmod 600) in service_account_file", profileOr(profile))}
}
