package store

import (
	"errors"
	"net"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"mailmover/i18n"
)

// FieldError is one problem with one key of a profile. Validate and ParseProfile return
// them joined (errors.Join); FieldErrors takes them apart again.
type FieldError struct {
	File string // the profile's file ("profiles/NAME.toml" or a full path); empty when not from a file
	Key  string // the dotted key, e.g. "security.tls"; empty for a syntax error of the file
	Line int    // 1-based line in the file; 0 when unknown (for example a key left out)
	Msg  string // what is wrong, and what is accepted
}

// Error reads like `profiles/x.toml: security.tls (line 9): "tcp" is not one of implicit,
// starttls, none`.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
	}
	if e.Key != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Key)
	}
	if e.Line > 0 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(i18n.Sprintf("(line %d)", e.Line))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// FieldErrors returns every *FieldError inside err (which Validate, ParseProfile,
// LoadProfile and SaveProfile join), in order; nil when there is none.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if fe, ok := e.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

// FilenamePlaceholders are the placeholders a destination file name may use.
var FilenamePlaceholders = []string{
	"filename", "name", "ext", "date", "time", "from", "subject", "uid", "messageid",
}

// Minimum and maximum of common.poll_interval.
const (
	MinPollInterval = 5 * time.Second
	MaxPollInterval = 24 * time.Hour
)

type checker struct{ errs []error }

// add records msg (translated by the caller) as a problem of key.
func (c *checker) add(key, msg string) {
	c.errs = append(c.errs, &FieldError{Key: key, Msg: msg})
}

func (c *checker) oneOf(key, v string, allowed ...string) {
	if !slices.Contains(allowed, v) {
		c.add(key, i18n.Sprintf("%q is not one of %s", v, strings.Join(allowed, ", ")))
	}
}

// required records a problem when v is empty; what (translated) says what to give.
func (c *checker) required(key, v, what string) bool {
	if strings.TrimSpace(v) == "" {
		c.add(key, i18n.Sprintf("is empty; %s", what))
		return false
	}
	return true
}

// Validate checks every value of the profile and returns all problems joined, each a
// *FieldError naming its key (Line is 0: the file is not known here; ParseProfile and
// LoadProfile fill it in). The rules:
//   - strings are valid UTF-8 without control characters;
//   - setup: host (a host name or IP, no scheme or path), port 1–65535, username and folder
//     are required;
//   - security: tls and auth from their lists; tls = "none" only for a loopback host
//     (IsLoopbackHost), since it would send the password or token in the clear; ca_file
//     empty or absolute (or ~/…);
//   - common: search, after and watch from their lists; since is YYYY-MM-DD; the attachment
//     mask holds valid globs; save holds at least one known value, none twice; after =
//     "move" needs move_to (other than folder); poll_interval between 5s and 24h;
//   - oauth2 (only when auth is xoauth2 or oauthbearer): preset (Presets) and flow from
//     their lists; client_auth is empty, "secret" or "certificate" (client_credentials
//     only); flow "service_account" only with the google (or custom) preset;
//     client_certificate_file and service_account_file are empty or absolute (or ~/…);
//     client_id is required (but for a service account, whose key names it); token_url, plus authorization_url for authcode and device_url
//     for device, are https URLs (http only for a loopback host, IsLoopbackHost); a
//     Microsoft preset (IsMicrosoftPreset) needs a tenant; the authcode flow needs redirect_uri
//     http://localhost|127.0.0.1|[::1]:PORT/… with redirect_port 0 (taken from the URI) or
//     equal to PORT;
//   - destination: folder is required and absolute (or starts with ~/): relative folders
//     would depend on where the program was started; filename uses only the known
//     {placeholders}, "/" between non-empty parts, no "." or ".." part; on_conflict from
//     its list, and not "overwrite" with after = "delete" (validateConflict).
func (p *Profile) Validate() error {
	c := &checker{}
	p.checkStrings(c)
	p.validateSetup(c)
	p.validateCommon(c)
	if p.Security.Auth == AuthXOAuth2 || p.Security.Auth == AuthOAuthBearer {
		p.validateOAuth2(c)
	}
	p.validateDestination(c)
	p.validateConflict(c)
	return errors.Join(c.errs...)
}

// stringFields lists every string value of p with its key.
func (p *Profile) stringFields() [][2]string {
	f := [][2]string{
		{"setup.host", p.Setup.Host}, {"setup.username", p.Setup.Username}, {"setup.folder", p.Setup.Folder},
		{"security.tls", p.Security.TLS}, {"security.auth", p.Security.Auth}, {"security.ca_file", p.Security.CAFile},
		{"common.search", p.Common.Search}, {"common.since", p.Common.Since}, {"common.from", p.Common.From},
		{"common.subject", p.Common.Subject}, {"common.attachment_mask", p.Common.AttachmentMask},
		{"common.after", p.Common.After}, {"common.move_to", p.Common.MoveTo}, {"common.watch", p.Common.Watch},
		{"oauth2.preset", p.OAuth2.Preset}, {"oauth2.flow", p.OAuth2.Flow}, {"oauth2.tenant", p.OAuth2.Tenant},
		{"oauth2.authorization_url", p.OAuth2.AuthorizationURL}, {"oauth2.token_url", p.OAuth2.TokenURL},
		{"oauth2.device_url", p.OAuth2.DeviceURL}, {"oauth2.client_id", p.OAuth2.ClientID},
		{"oauth2.scope", p.OAuth2.Scope}, {"oauth2.redirect_uri", p.OAuth2.RedirectURI},
		{"oauth2.client_auth", p.OAuth2.ClientAuth}, {"oauth2.client_certificate_file", p.OAuth2.ClientCertificateFile},
		{"oauth2.service_account_file", p.OAuth2.ServiceAccountFile},
		{"destination.folder", p.Destination.Folder}, {"destination.filename", p.Destination.Filename},
		{"destination.on_conflict", p.Destination.OnConflict},
	}
	for _, s := range p.Common.Save {
		f = append(f, [2]string{"common.save", s})
	}
	return f
}

// badString says what is wrong with s as a one-line value, or "".
func badString(s string) string {
	if !utf8.ValidString(s) {
		return i18n.T("is not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return i18n.Sprintf("contains the control character %U", r)
		}
	}
	return ""
}

func (p *Profile) checkStrings(c *checker) {
	for _, kv := range p.stringFields() {
		if why := badString(kv[1]); why != "" {
			c.add(kv[0], why)
		}
	}
}

func (p *Profile) validateSetup(c *checker) {
	s := p.Setup
	if c.required("setup.host", s.Host, i18n.T("give the IMAP server's host name, e.g. outlook.office365.com")) {
		if strings.Contains(s.Host, "://") || strings.ContainsAny(s.Host, "/ \t") {
			c.add("setup.host", i18n.Sprintf("%q is not a host name; give only the name, e.g. outlook.office365.com", s.Host))
		} else if _, _, err := net.SplitHostPort(s.Host); err == nil && strings.Count(s.Host, ":") == 1 {
			c.add("setup.host", i18n.Sprintf("%q holds a port; put the port into setup.port", s.Host))
		}
	}
	if s.Port < 1 || s.Port > 65535 {
		c.add("setup.port", i18n.Sprintf("%d is not a port (1–65535; IMAPS is 993, IMAP with STARTTLS 143)", s.Port))
	}
	c.required("setup.username", s.Username, i18n.T("give the mailbox's user name, usually its address"))
	c.required("setup.folder", s.Folder, i18n.T(`give the folder to read, e.g. "INBOX"`))

	sec := p.Security
	c.oneOf("security.tls", sec.TLS, TLSImplicit, TLSStartTLS, TLSNone)
	c.oneOf("security.auth", sec.Auth, AuthXOAuth2, AuthOAuthBearer, AuthPassword)
	if sec.CAFile != "" && !pathIsAcceptable(sec.CAFile) {
		c.add("security.ca_file", i18n.Sprintf("%q is relative; give an absolute path (/etc/ssl/private-ca.pem) or one under your home (~/ca.pem)", sec.CAFile))
	}
	if sec.TLS == TLSNone && s.Host != "" && !IsLoopbackHost(s.Host) {
		c.add("security.tls", i18n.Sprintf(`"none" would send the sign-in in the clear to %s; use "implicit" or "starttls" (none is only for a loopback host)`, s.Host))
	}
}

func (p *Profile) validateCommon(c *checker) {
	m := p.Common
	c.oneOf("common.search", m.Search, SearchUnseen, SearchAll)
	if m.Since != "" {
		if _, err := time.Parse("2006-01-02", m.Since); err != nil {
			c.add("common.since", i18n.Sprintf("%q is not a date in the form YYYY-MM-DD", m.Since))
		}
	}
	if strings.TrimSpace(m.AttachmentMask) == "" {
		c.add("common.attachment_mask", i18n.T(`is empty; use "*" for every attachment, or e.g. "*.pdf;*.xml"`))
	} else {
		for _, g := range strings.Split(m.AttachmentMask, ";") {
			g = strings.TrimSpace(g)
			if g == "" {
				continue
			}
			if _, err := path.Match(g, ""); err != nil {
				c.add("common.attachment_mask", i18n.Sprintf("%q is not a valid pattern (* ? [a-z] are allowed)", g))
			}
		}
	}
	if len(m.Save) == 0 {
		c.add("common.save", i18n.T(`is empty; list what to save: "attachments", "message" (.eml), "body"`))
	}
	seen := map[string]bool{}
	for _, s := range m.Save {
		c.oneOf("common.save", s, SaveAttachments, SaveMessage, SaveBody)
		if seen[s] {
			c.add("common.save", i18n.Sprintf("%q is listed twice", s))
		}
		seen[s] = true
	}
	c.oneOf("common.after", m.After, AfterSeen, AfterMove, AfterDelete, AfterNone)
	if m.After == AfterMove {
		if c.required("common.move_to", m.MoveTo, i18n.T(`after = "move" needs the folder to move to`)) &&
			m.MoveTo == p.Setup.Folder {
			c.add("common.move_to", i18n.Sprintf("%q is the folder being read (setup.folder); choose another", m.MoveTo))
		}
	}
	c.oneOf("common.watch", m.Watch, WatchIdle, WatchPoll)
	if d := m.PollInterval.Duration; d < MinPollInterval || d > MaxPollInterval {
		c.add("common.poll_interval", i18n.Sprintf("%s is out of range (%s to %s)", d, MinPollInterval, MaxPollInterval))
	}
}

// checkURL checks an endpoint: absolute http(s) with a host, http only for loopback.
// keyFile checks a key file's path (client_certificate_file, service_account_file):
// empty (the keyring), or absolute or under ~/. Whether the file is private is checked
// when it is read (auth), since it may change after the profile is saved.
func (c *checker) keyFile(key, path string) {
	if path != "" && !pathIsAcceptable(path) {
		c.add(key, i18n.Sprintf("%q is relative; give an absolute path (/etc/mailmover/app.pem) or one under your home (~/app.pem)", path))
	}
}

func (c *checker) checkURL(key, s string) {
	if !c.required(key, s, i18n.T("give the provider's URL (or pick a preset)")) {
		return
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		c.add(key, i18n.Sprintf("%q is not an http(s) URL", s))
		return
	}
	if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
		c.add(key, i18n.Sprintf("%q uses http; only https is allowed except for localhost", s))
	}
	if u.Fragment != "" {
		c.add(key, i18n.Sprintf("%q has a #fragment, which OAuth2 endpoints must not have", s))
	}
}

// RedirectProblem checks an OAuth2 redirect as the loopback flow needs it (RFC 8252): an
// http URI on localhost, 127.0.0.1 or [::1] (RedirectHost) with an explicit port, and a
// port that is 0 (taken from the URI) or the same. It returns "" when all is well, else
// the reason. The auth package applies the same host rule before a sign-in starts.
func RedirectProblem(uri string, port int) string {
	why, _ := redirectProblem(uri, port)
	return why
}

// redirectProblem is RedirectProblem that also says whether the problem is redirect_port's
// (rather than redirect_uri's).
func redirectProblem(uri string, port int) (why string, portField bool) {
	if strings.ContainsFunc(uri, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\\' }) {
		return i18n.Sprintf("%q contains a space, control character or backslash", uri), false
	}
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" {
		return i18n.Sprintf("%q is not a URL; use e.g. http://localhost:3017/", uri), false
	}
	if u.Scheme != "http" {
		return i18n.Sprintf("%q must use http: the answer comes to a listener on this computer (RFC 8252), e.g. http://localhost:3017/", uri), false
	}
	h := u.Hostname()
	if _, ok := RedirectHost(h); !ok {
		return i18n.Sprintf("%q must point to localhost, 127.0.0.1 or [::1], not %s", uri, h), false
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || strings.Contains(uri, "#") {
		return i18n.Sprintf("%q must not have a user, query or fragment", uri), false
	}
	if p := u.Path; strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") || strings.Contains(p, "/./") || strings.HasSuffix(p, "/.") {
		return i18n.Sprintf("%q has a . or .. in its path", uri), false
	}
	ps := u.Port()
	if ps == "" {
		return i18n.Sprintf("%q has no port; add one, e.g. http://localhost:3017/", uri), false
	}
	up, err := strconv.Atoi(ps)
	if err != nil || up < 1 || up > 65535 || strconv.Itoa(up) != ps {
		return i18n.Sprintf("%q has a bad port", uri), false
	}
	if port != 0 && port != up {
		return i18n.Sprintf("redirect_port %d differs from the port %d of redirect_uri %q; make them the same", port, up, uri), true
	}
	if port < 0 || port > 65535 {
		return i18n.Sprintf("redirect_port %d is not a port", port), true
	}
	return "", false
}

func (p *Profile) validateOAuth2(c *checker) {
	o := p.OAuth2
	c.oneOf("oauth2.preset", o.Preset, Presets...)
	c.oneOf("oauth2.flow", o.Flow, FlowAuthCode, FlowDevice, FlowClientCredentials, FlowServiceAccount)
	if o.ClientAuth != "" {
		c.oneOf("oauth2.client_auth", o.ClientAuth, ClientAuthSecret, ClientAuthCertificate)
	}
	if o.Flow == FlowServiceAccount && o.Preset != PresetGoogle && o.Preset != PresetCustom {
		c.add("oauth2.flow", i18n.T(`a service account (flow = "service_account") is Google Workspace's: use preset = "google"`))
	}
	if o.ClientAuth == ClientAuthCertificate && o.Flow != FlowClientCredentials {
		c.add("oauth2.client_auth", i18n.T(`a certificate authenticates the app only with flow = "client_credentials"`))
	}
	c.keyFile("oauth2.client_certificate_file", o.ClientCertificateFile)
	c.keyFile("oauth2.service_account_file", o.ServiceAccountFile)
	if IsMicrosoftPreset(o.Preset) {
		if c.required("oauth2.tenant", o.Tenant, i18n.T(`give the tenant ID, "organizations" or "common"`)) &&
			strings.ContainsFunc(o.Tenant, func(r rune) bool {
				return !(r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '.'))
			}) {
			c.add("oauth2.tenant", i18n.Sprintf(`%q is not a tenant ID or domain (letters, digits, "-", ".")`, o.Tenant))
		}
	}
	if o.Flow == FlowServiceAccount {
		// The service account's key file names its client; client_id may stay empty.
		if strings.ContainsFunc(o.ClientID, unicode.IsSpace) {
			c.add("oauth2.client_id", i18n.Sprintf("%q has a space; a client ID has none (copy it from the app registration)", o.ClientID))
		}
	} else if c.required("oauth2.client_id", o.ClientID, i18n.T("give the application (client) ID of the app registration")) &&
		strings.ContainsFunc(o.ClientID, unicode.IsSpace) {
		c.add("oauth2.client_id", i18n.Sprintf("%q has a space; a client ID has none (copy it from the app registration)", o.ClientID))
	}
	c.required("oauth2.scope", o.Scope, i18n.T(`give the scope, e.g. "https://outlook.office.com/IMAP.AccessAsUser.All offline_access"`))
	c.checkURL("oauth2.token_url", o.TokenURL)
	switch o.Flow {
	case FlowAuthCode:
		c.checkURL("oauth2.authorization_url", o.AuthorizationURL)
		if why, portField := redirectProblem(o.RedirectURI, o.RedirectPort); why != "" {
			key := "oauth2.redirect_uri"
			if portField {
				key = "oauth2.redirect_port"
			}
			c.add(key, why)
		}
	case FlowDevice:
		c.checkURL("oauth2.device_url", o.DeviceURL)
	}
}

func (p *Profile) validateDestination(c *checker) {
	d := p.Destination
	if c.required("destination.folder", d.Folder, i18n.T("give the folder where files go, e.g. /srv/mail-in or ~/Invoices")) &&
		!pathIsAcceptable(d.Folder) {
		c.add("destination.folder", i18n.Sprintf("%q is relative; give an absolute folder (/srv/mail-in) or one under your home (~/mail-in)", d.Folder))
	}
	if why := FilenameTemplateProblem(d.Filename); why != "" {
		c.add("destination.filename", why)
	}
	c.oneOf("destination.on_conflict", d.OnConflict, ConflictRename, ConflictOverwrite, ConflictSkip)
}

// FilenameTemplateProblem checks a destination file name template and returns "" when it
// is good, else the reason. A template is text with {placeholders} from
// FilenamePlaceholders; "/" separates folders; it may not be absolute, have an empty, "."
// or ".." part, or a backslash.
func FilenameTemplateProblem(t string) string {
	if strings.TrimSpace(t) == "" {
		return i18n.T(`is empty; use e.g. "{filename}" or "{date}/{filename}"`)
	}
	if strings.HasPrefix(t, "/") {
		return i18n.Sprintf("%q starts with /; it is relative to destination.folder", t)
	}
	if strings.Contains(t, `\`) {
		return i18n.Sprintf(`%q has a backslash; use "/" to make folders`, t)
	}
	for part := range strings.SplitSeq(t, "/") {
		switch strings.TrimSpace(part) {
		case "":
			return i18n.Sprintf("%q has an empty part between slashes (or ends with /)", t)
		case ".", "..":
			return i18n.Sprintf("%q has a %q part; files stay inside destination.folder", t, part)
		}
	}
	rest := t
	for rest != "" {
		i := strings.IndexAny(rest, "{}")
		if i < 0 {
			break
		}
		if rest[i] == '}' {
			return i18n.Sprintf("%q has a } without {", t)
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return i18n.Sprintf("%q has a { without }", t)
		}
		name := rest[i+1 : i+j]
		if !slices.Contains(FilenamePlaceholders, name) {
			return i18n.Sprintf("{%s} is not a placeholder; use {%s}", name, strings.Join(FilenamePlaceholders, "} {"))
		}
		rest = rest[i+j+1:]
	}
	return ""
}
