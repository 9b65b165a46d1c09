package auth

import (
	"time"

	"mailmover/i18n"
	"mailmover/store"
)

// CertificateWarnAhead is how long before a client certificate's end (NotAfter) the
// mover and 'mailmover check' start to warn.
const CertificateWarnAhead = 30 * Day

// CredentialWarning returns a warning, with advice, when the app credential of profile p
// expires within CertificateWarnAhead or has expired, where the expiry is known: a
// client certificate's NotAfter (client_auth = "certificate"). A client secret's expiry
// is not knowable from the secret (Entra keeps it with the app registration, and only
// the Entra admin centre or Microsoft Graph shows it), and a Google service account key
// has none unless an admin set one: for those, and when all is well, both are "". A
// credential that cannot be read gives no warning here: the token source says why.
func CredentialWarning(p *store.Profile, sec store.Secrets, now time.Time) (warning, advice string) {
	if p == nil || !p.OAuth2.UsesCertificate() {
		return "", ""
	}
	c, err := LoadClientCertificate(p.Name, p.OAuth2, sec)
	if err != nil {
		return "", ""
	}
	return certificateWarning(p.Name, c, now)
}

func certificateWarning(profile string, c *ClientCertificate, now time.Time) (warning, advice string) {
	end := c.Cert.NotAfter
	left := end.Sub(now)
	if left > CertificateWarnAhead {
		return "", ""
	}
	advice = i18n.Sprintf("Make a new certificate, upload it to the app registration (Entra admin centre → App registrations → the app → Certificates & secrets → Certificates → Upload certificate), then store the new key and certificate with 'mailmover secret set -profile %s client-certificate' or in client_certificate_file. Both certificates work while both are uploaded.", profileOr(profile))
	if left <= 0 {
		return i18n.Sprintf("the client certificate (SHA-1 thumbprint %s) expired on %s: the provider refuses it", c.ThumbprintSHA1Hex(), i18n.FormatDate(end.Local())), advice
	}
	return i18n.Sprintf("the client certificate (SHA-1 thumbprint %s) expires on %s, in %d days: app-only sign-in stops then", c.ThumbprintSHA1Hex(), i18n.FormatDate(end.Local()), max(1, days(left))), advice
}
