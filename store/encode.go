package store

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"mailmover/i18n"
)

// fileHeader opens every profile file SaveProfile writes (translated: each line stays a
// TOML comment).
var fileHeader = i18n.Key(`# MailMover profile. No secrets here: the password, client secret and tokens live in the
# OS keyring (service "mailmover", account "%s/<kind>"); set them with
# 'mailmover secret set -profile %s client-secret|password' or sign in with 'mailmover login'.
# Saving from the window rewrites this file (comments you add are not kept).
`)

// EncodeProfile writes p as TOML in the documented shape, with a comment after each key
// listing the values it takes. It does not validate; SaveProfile does.
func EncodeProfile(p *Profile) ([]byte, error) {
	w := &tomlWriter{}
	fmt.Fprintf(&w.b, i18n.T(fileHeader), p.Name, p.Name)

	w.table("setup")
	w.str("host", p.Setup.Host, i18n.T("IMAP server"))
	w.int("port", p.Setup.Port, i18n.T("993 implicit TLS, 143 STARTTLS"))
	w.str("username", p.Setup.Username, i18n.T("the mailbox, usually its address"))
	w.str("folder", p.Setup.Folder, i18n.T("folder to read"))
	w.bool("enabled", p.Setup.Enabled, i18n.T("false: 'mailmover run -all' and the service leave it alone"))

	w.table("security")
	w.str("tls", p.Security.TLS, "implicit | starttls | none")
	w.str("auth", p.Security.Auth, "xoauth2 | oauthbearer | password")
	w.bool("verify_certificate", p.Security.VerifyCertificate, "")
	w.str("ca_file", p.Security.CAFile, i18n.T("extra PEM bundle for a private server"))

	w.table("common")
	w.str("search", p.Common.Search, "unseen | all")
	w.str("since", p.Common.Since, "YYYY-MM-DD")
	w.str("from", p.Common.From, i18n.T("substring, case-insensitive"))
	w.str("subject", p.Common.Subject, i18n.T("substring, case-insensitive"))
	w.str("attachment_mask", p.Common.AttachmentMask, i18n.T(`";"-separated globs, case-insensitive: "*.pdf;*.xml"`))
	w.strs("save", p.Common.Save, "attachments | message (.eml) | body")
	w.str("after", p.Common.After, "seen | move | delete | none")
	w.str("move_to", p.Common.MoveTo, i18n.T(`target folder for after = "move"`))
	w.str("watch", p.Common.Watch, "idle | poll")
	w.str("poll_interval", formatDuration(p.Common.PollInterval.Duration), i18n.T("at least 5s"))

	w.table("oauth2")
	w.str("preset", p.OAuth2.Preset, strings.Join(Presets, " | "))
	w.str("flow", p.OAuth2.Flow, "authcode | device | client_credentials | service_account")
	w.str("tenant", p.OAuth2.Tenant, i18n.T("Microsoft: tenant ID, organizations or common"))
	w.str("authorization_url", p.OAuth2.AuthorizationURL, "")
	w.str("token_url", p.OAuth2.TokenURL, "")
	w.str("device_url", p.OAuth2.DeviceURL, "")
	w.str("client_id", p.OAuth2.ClientID, i18n.T("application (client) ID; the secret is in the keyring"))
	w.str("scope", p.OAuth2.Scope, "")
	w.str("redirect_uri", p.OAuth2.RedirectURI, i18n.T("http://localhost:PORT/ (loopback only)"))
	w.int("redirect_port", p.OAuth2.RedirectPort, i18n.T("same port as redirect_uri"))
	if p.OAuth2.Flow == FlowClientCredentials || p.OAuth2.ClientAuth != "" || p.OAuth2.ClientCertificateFile != "" {
		w.str("client_auth", p.OAuth2.ClientAuth, "secret | certificate")
		w.str("client_certificate_file", p.OAuth2.ClientCertificateFile, i18n.T("PEM key + certificate, chmod 600; empty: the keyring"))
	}
	if p.OAuth2.Flow == FlowServiceAccount || p.OAuth2.ServiceAccountFile != "" {
		w.str("service_account_file", p.OAuth2.ServiceAccountFile, i18n.T("the service account's JSON key, chmod 600; empty: the keyring"))
	}

	w.table("destination")
	w.str("folder", p.Destination.Folder, i18n.T("absolute, or ~/…"))
	w.str("filename", p.Destination.Filename, i18n.T(`{filename} {name} {ext} {date} {time} {from} {subject} {uid} {messageid}; "/" makes folders`))
	w.str("on_conflict", p.Destination.OnConflict, "rename | overwrite | skip")
	return w.b.Bytes(), nil
}

// formatDuration writes whole hours, minutes or seconds short ("60s" stays "1m", not "1m0s").
func formatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}

type tomlWriter struct{ b bytes.Buffer }

func (w *tomlWriter) table(name string) { fmt.Fprintf(&w.b, "\n[%s]\n", name) }

func (w *tomlWriter) kv(key, value, comment string) {
	line := key + " = " + value
	if comment != "" {
		if pad := 28 - utf8.RuneCountInString(line); pad > 0 {
			line += strings.Repeat(" ", pad)
		}
		line += "  # " + comment
	}
	w.b.WriteString(line)
	w.b.WriteByte('\n')
}

func (w *tomlWriter) str(key, v, comment string) { w.kv(key, quoteTOML(v), comment) }
func (w *tomlWriter) int(key string, v int, comment string) {
	w.kv(key, strconv.Itoa(v), comment)
}
func (w *tomlWriter) bool(key string, v bool, comment string) {
	w.kv(key, strconv.FormatBool(v), comment)
}
func (w *tomlWriter) strs(key string, vs []string, comment string) {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = quoteTOML(v)
	}
	w.kv(key, "["+strings.Join(q, ", ")+"]", comment)
}

// quoteTOML writes s as a TOML basic string. Invalid UTF-8 bytes become U+FFFD (TOML text
// must be UTF-8); Validate refuses such strings before SaveProfile gets here.
func quoteTOML(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
