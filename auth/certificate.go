package auth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"strings"
	"time"

	"mailmover/i18n"
)

// ClientAssertionType is the client_assertion_type of a JWT client assertion (RFC 7523
// section 2.2, OpenID Connect's private_key_jwt).
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" // i18n:keep

// AssertionLifetime is how long a client assertion is valid: long enough for clock skew
// and one token request, short enough that a captured one is soon useless.
const AssertionLifetime = 5 * time.Minute

// Signing algorithms of a client assertion.
const (
	// AlgPS256 is RSASSA-PSS with SHA-256: what Microsoft Entra's certificate-credentials
	// page asks for today, with the x5t#S256 header.
	AlgPS256 = "PS256"
	// AlgRS256 is RSASSA-PKCS1-v1_5 with SHA-256: what other providers accept widely.
	AlgRS256 = "RS256"
)

// ClientCertificate is an app's private key with its certificate, for client credentials
// with a certificate (client_auth = "certificate"). Its String never shows the key.
type ClientCertificate struct {
	// Cert is the certificate registered with the app (its public key matches Key).
	Cert *x509.Certificate
	key  *rsa.PrivateKey
}

// String names the certificate by subject, thumbprint and expiry, never the key.
func (c *ClientCertificate) String() string {
	return i18n.Sprintf("certificate %q (SHA-1 thumbprint %s, valid until %s)", c.Cert.Subject.String(),
		c.ThumbprintSHA1Hex(), c.Cert.NotAfter.UTC().Format(time.DateOnly))
}

// ThumbprintSHA1Hex is the certificate's SHA-1 thumbprint in upper-case hex, as the Entra
// admin centre lists it under Certificates & secrets.
func (c *ClientCertificate) ThumbprintSHA1Hex() string {
	return hexUpper(thumbprintSHA1(c.Cert.Raw))
}

// X5TS256 is the x5t#S256 header value: base64url of the SHA-256 of the certificate's DER.
func (c *ClientCertificate) X5TS256() string {
	sum := sha256.Sum256(c.Cert.Raw)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// ParseClientCertificate reads a PEM bundle holding one RSA private key (PKCS #1 "RSA
// PRIVATE KEY" or PKCS #8 "PRIVATE KEY", unencrypted) and the certificate that goes with
// it ("CERTIFICATE"; when there are several, the one whose public key matches the key).
// Errors name what is missing or wrong, never the key.
func ParseClientCertificate(data []byte) (*ClientCertificate, error) {
	var (
		key   *rsa.PrivateKey
		certs []*x509.Certificate
	)
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, i18n.Errorf("the client certificate cannot be read: %w", err)
			}
			certs = append(certs, c)
		case "RSA PRIVATE KEY": // i18n:keep (PEM block types)
			k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
			if err != nil {
				return nil, i18n.New("the private key (RSA PRIVATE KEY) cannot be read")
			}
			key = k
		case "PRIVATE KEY": // i18n:keep
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, i18n.New("the private key (PRIVATE KEY) cannot be read")
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, i18n.Errorf("the private key is %T; Microsoft Entra takes RSA certificates only: make an RSA key (2048 bits or more)", k)
			}
			key = rk
		case "ENCRYPTED PRIVATE KEY": // i18n:keep
			return nil, i18n.New("the private key is encrypted; store it unencrypted (openssl pkcs8 -topk8 -nocrypt), protected by the keyring or the file's permissions")
		}
	}
	if key == nil {
		return nil, i18n.New("no private key found: give the PEM private key and its certificate together")
	}
	if len(certs) == 0 {
		return nil, i18n.New("no certificate found: give the PEM certificate together with its private key")
	}
	for _, c := range certs {
		if pub, ok := c.PublicKey.(*rsa.PublicKey); ok && pub.Equal(&key.PublicKey) {
			return &ClientCertificate{Cert: c, key: key}, nil
		}
	}
	return nil, i18n.New("the certificate does not belong to the private key (their public keys differ)")
}

// Assertion returns a signed client assertion (a JWT, RFC 7523 section 3) for clientID at
// the token endpoint tokenURL: header alg, typ "JWT" and x5t#S256; claims aud = tokenURL,
// iss = sub = clientID, a random jti, nbf = iat = now and exp = now + AssertionLifetime.
// alg is AlgPS256 or AlgRS256.
func (c *ClientCertificate) Assertion(clientID, tokenURL, alg string, now time.Time) (string, error) {
	header := map[string]string{"alg": alg, "typ": "JWT", "x5t#S256": c.X5TS256()}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	claims := map[string]any{
		"aud": tokenURL,
		"iss": clientID,
		"sub": clientID,
		"jti": hex.EncodeToString(jti),
		"nbf": now.Unix(),
		"iat": now.Unix(),
		"exp": now.Add(AssertionLifetime).Unix(),
	}
	return signJWT(c.key, alg, header, claims)
}

// signJWT encodes header and claims and signs them with key (RS256 or PS256).
func signJWT(key *rsa.PrivateKey, alg string, header map[string]string, claims map[string]any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	cl, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(cl)
	sum := sha256.Sum256([]byte(input))
	var sig []byte
	switch alg {
	case AlgPS256:
		sig, err = rsa.SignPSS(rand.Reader, key, crypto.SHA256, sum[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case AlgRS256:
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	default:
		return "", i18n.Errorf("unknown signing algorithm %q", alg)
	}
	if err != nil {
		return "", i18n.Errorf("signing the client assertion: %w", err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// thumbprintSHA1 is the SHA-1 of a certificate's DER: only a name for it (Entra lists it
// so), never used for security.
func thumbprintSHA1(der []byte) []byte {
	sum := sha1.Sum(der)
	return sum[:]
}

func hexUpper(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }
