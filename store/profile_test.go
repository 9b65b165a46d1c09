package store

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// sampleTOML is the profile of design.md with a client ID and a destination.
const sampleTOML = `[setup]
host = "outlook.office365.com"
port = 993
username = "invoices@contoso.example"
folder = "INBOX"

[security]
tls = "implicit"            # implicit | starttls | none
auth = "xoauth2"            # xoauth2 | oauthbearer | password
verify_certificate = true
ca_file = ""                # extra PEM bundle for a private server

[common]
search = "unseen"           # unseen | all
since = ""                  # YYYY-MM-DD
from = ""                   # substring, case-insensitive
subject = ""                # substring, case-insensitive
attachment_mask = "*"       # ";"-separated globs, case-insensitive: "*.pdf;*.xml"
save = ["attachments"]      # attachments | message (.eml) | body
after = "seen"              # seen | move | delete | none
move_to = ""                # target folder for after = "move"
watch = "idle"              # idle | poll
poll_interval = "60s"

[oauth2]
preset = "microsoft"        # microsoft | google | custom
flow = "authcode"           # authcode | device | client_credentials
tenant = "organizations"
authorization_url = "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize"
token_url = "https://login.microsoftonline.com/organizations/oauth2/v2.0/token"
client_id = "00000000-1111-2222-3333-444444444444"
scope = "https://outlook.office.com/IMAP.AccessAsUser.All offline_access"
redirect_uri = "http://localhost:3017/"
redirect_port = 3017

[destination]
folder = "/srv/mail-in"
filename = "{filename}"     # {filename} {name} {ext} {date} {time} {from} {subject} {uid} {messageid}; "/" makes folders
on_conflict = "rename"      # rename | overwrite | skip
`

// validProfile returns a profile that passes Validate.
func validProfile(name string) *Profile {
	p := DefaultProfile(name)
	p.Setup.Host = "outlook.office365.com"
	p.Setup.Username = "invoices@contoso.example"
	p.OAuth2.ClientID = "00000000-1111-2222-3333-444444444444"
	p.Destination.Folder = "/srv/mail-in"
	return p
}

func TestParseSample(t *testing.T) {
	p, err := ParseProfile("contoso", []byte(sampleTOML))
	if err != nil {
		t.Fatalf("ParseProfile: %v", err)
	}
	want := validProfile("contoso")
	want.OAuth2.DeviceURL = defaultMicrosoftDeviceURL // left out of the file: the default stays
	if !reflect.DeepEqual(p, want) {
		t.Errorf("parsed\n%+v\nwant\n%+v", p, want)
	}
}

func TestDefaultProfileNeedsOnlyTheBlanks(t *testing.T) {
	fes := FieldErrors(DefaultProfile("x").Validate())
	var keys []string
	for _, fe := range fes {
		keys = append(keys, fe.Key)
	}
	want := []string{"setup.host", "setup.username", "oauth2.client_id", "destination.folder"}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("a default profile lacks %v, want %v", keys, want)
	}
	if err := validProfile("x").Validate(); err != nil {
		t.Errorf("valid profile: %v", err)
	}
}

func TestValidateMessages(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *Profile)
		key    string
		msg    string // substring of the message
	}{
		{"host empty", func(p *Profile) { p.Setup.Host = " " }, "setup.host", "is empty"},
		{"host URL", func(p *Profile) { p.Setup.Host = "imaps://mail.example" }, "setup.host", "not a host name"},
		{"host with port", func(p *Profile) { p.Setup.Host = "mail.example:993" }, "setup.host", "holds a port"},
		{"port 0", func(p *Profile) { p.Setup.Port = 0 }, "setup.port", "0 is not a port"},
		{"port big", func(p *Profile) { p.Setup.Port = 70000 }, "setup.port", "70000 is not a port"},
		{"username", func(p *Profile) { p.Setup.Username = "" }, "setup.username", "is empty"},
		{"folder", func(p *Profile) { p.Setup.Folder = "" }, "setup.folder", "is empty"},
		{"control char", func(p *Profile) { p.Setup.Folder = "IN\x00BOX" }, "setup.folder", "control character"},
		{"bad utf8", func(p *Profile) { p.Common.Subject = "\xff" }, "common.subject", "not valid UTF-8"},
		{"tls", func(p *Profile) { p.Security.TLS = "tcp" }, "security.tls", `"tcp" is not one of implicit, starttls, none`},
		{"tls none remote", func(p *Profile) { p.Security.TLS = TLSNone }, "security.tls", "in the clear"},
		{"auth", func(p *Profile) { p.Security.Auth = "ntlm" }, "security.auth", `"ntlm" is not one of xoauth2, oauthbearer, password`},
		{"search", func(p *Profile) { p.Common.Search = "new" }, "common.search", "not one of unseen, all"},
		{"since", func(p *Profile) { p.Common.Since = "2024-13-01" }, "common.since", "YYYY-MM-DD"},
		{"since format", func(p *Profile) { p.Common.Since = "1.2.2024" }, "common.since", "YYYY-MM-DD"},
		{"mask empty", func(p *Profile) { p.Common.AttachmentMask = "" }, "common.attachment_mask", "is empty"},
		{"mask bad", func(p *Profile) { p.Common.AttachmentMask = "*.pdf;[a" }, "common.attachment_mask", `"[a" is not a valid pattern`},
		{"save empty", func(p *Profile) { p.Common.Save = nil }, "common.save", "is empty"},
		{"save unknown", func(p *Profile) { p.Common.Save = []string{"pdf"} }, "common.save", `"pdf" is not one of attachments, message, body`},
		{"save twice", func(p *Profile) { p.Common.Save = []string{"body", "body"} }, "common.save", "listed twice"},
		{"after", func(p *Profile) { p.Common.After = "archive" }, "common.after", "not one of seen, move, delete, none"},
		{"move without target", func(p *Profile) { p.Common.After = AfterMove }, "common.move_to", "needs the folder"},
		{"move to itself", func(p *Profile) { p.Common.After = AfterMove; p.Common.MoveTo = "INBOX" }, "common.move_to", "the folder being read"},
		{"watch", func(p *Profile) { p.Common.Watch = "push" }, "common.watch", "not one of idle, poll"},
		{"poll short", func(p *Profile) { p.Common.PollInterval.Duration = time.Second }, "common.poll_interval", "1s is out of range (5s to 24h0m0s)"},
		{"poll long", func(p *Profile) { p.Common.PollInterval.Duration = 48 * time.Hour }, "common.poll_interval", "out of range"},
		{"preset", func(p *Profile) { p.OAuth2.Preset = "okta" }, "oauth2.preset", "not one of microsoft, microsoft-usgov, microsoft-dod, microsoft-china, google, custom"},
		{"flow", func(p *Profile) { p.OAuth2.Flow = "implicit" }, "oauth2.flow", "not one of authcode, device, client_credentials"},
		{"tenant empty", func(p *Profile) { p.OAuth2.Tenant = "" }, "oauth2.tenant", "is empty"},
		{"tenant bad", func(p *Profile) { p.OAuth2.Tenant = "a/b" }, "oauth2.tenant", "not a tenant"},
		{"client id", func(p *Profile) { p.OAuth2.ClientID = "" }, "oauth2.client_id", "is empty"},
		{"token url http", func(p *Profile) { p.OAuth2.TokenURL = "http://login.example/token" }, "oauth2.token_url", "only https"},
		{"token url scheme", func(p *Profile) { p.OAuth2.TokenURL = "ftp://login.example/token" }, "oauth2.token_url", "not an http(s) URL"},
		{"token url fragment", func(p *Profile) { p.OAuth2.TokenURL = "https://login.example/token#x" }, "oauth2.token_url", "#fragment"},
		{"auth url empty", func(p *Profile) { p.OAuth2.AuthorizationURL = "" }, "oauth2.authorization_url", "is empty"},
		{"device url", func(p *Profile) { p.OAuth2.Flow = FlowDevice; p.OAuth2.DeviceURL = "" }, "oauth2.device_url", "is empty"},
		{"redirect https", func(p *Profile) { p.OAuth2.RedirectURI = "https://localhost:3017/" }, "oauth2.redirect_uri", "must use http"},
		{"redirect host", func(p *Profile) { p.OAuth2.RedirectURI = "http://example.com:3017/" }, "oauth2.redirect_uri", "must point to localhost"},
		{"redirect no port", func(p *Profile) { p.OAuth2.RedirectURI = "http://localhost/" }, "oauth2.redirect_uri", "has no port"},
		{"redirect ports differ", func(p *Profile) { p.OAuth2.RedirectPort = 4000 }, "oauth2.redirect_port", "redirect_port 4000 differs from the port 3017 of redirect_uri"},
		{"ca file relative", func(p *Profile) { p.Security.CAFile = "ca.pem" }, "security.ca_file", "is relative"},
		{"client auth", func(p *Profile) { p.OAuth2.Flow = FlowClientCredentials; p.OAuth2.ClientAuth = "cert" }, "oauth2.client_auth", `"cert" is not one of secret, certificate`},
		{"certificate with authcode", func(p *Profile) { p.OAuth2.ClientAuth = ClientAuthCertificate }, "oauth2.client_auth", `only with flow = "client_credentials"`},
		{"certificate file relative", func(p *Profile) {
			p.OAuth2.Flow, p.OAuth2.ClientAuth, p.OAuth2.ClientCertificateFile = FlowClientCredentials, ClientAuthCertificate, "app.pem"
		}, "oauth2.client_certificate_file", "is relative"},
		{"service account with microsoft", func(p *Profile) { p.OAuth2.Flow = FlowServiceAccount }, "oauth2.flow", `use preset = "google"`},
		{"service account file relative", func(p *Profile) {
			p.OAuth2.Preset, p.OAuth2.Tenant, p.OAuth2.Flow, p.OAuth2.ServiceAccountFile = PresetGoogle, "", FlowServiceAccount, "key.json"
		}, "oauth2.service_account_file", "is relative"},
		{"dest empty", func(p *Profile) { p.Destination.Folder = "" }, "destination.folder", "is empty"},
		{"dest relative", func(p *Profile) { p.Destination.Folder = "mail-in" }, "destination.folder", "is relative"},
		{"filename empty", func(p *Profile) { p.Destination.Filename = "" }, "destination.filename", "is empty"},
		{"filename placeholder", func(p *Profile) { p.Destination.Filename = "{sender}.pdf" }, "destination.filename", "{sender} is not a placeholder"},
		{"filename brace", func(p *Profile) { p.Destination.Filename = "{date" }, "destination.filename", "{ without }"},
		{"filename close brace", func(p *Profile) { p.Destination.Filename = "a}" }, "destination.filename", "} without {"},
		{"filename dotdot", func(p *Profile) { p.Destination.Filename = "../{filename}" }, "destination.filename", `".." part`},
		{"filename absolute", func(p *Profile) { p.Destination.Filename = "/etc/{filename}" }, "destination.filename", "starts with /"},
		{"filename empty part", func(p *Profile) { p.Destination.Filename = "{date}//{filename}" }, "destination.filename", "empty part"},
		{"filename backslash", func(p *Profile) { p.Destination.Filename = `{date}\{filename}` }, "destination.filename", "backslash"},
		{"on conflict", func(p *Profile) { p.Destination.OnConflict = "replace" }, "destination.on_conflict", "not one of rename, overwrite, skip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProfile("x")
			tt.change(p)
			err := p.Validate()
			fes := FieldErrors(err)
			if len(fes) != 1 {
				t.Fatalf("want one problem, got %d: %v", len(fes), err)
			}
			if fes[0].Key != tt.key || !strings.Contains(fes[0].Msg, tt.msg) {
				t.Errorf("got %s: %s; want %s: …%s…", fes[0].Key, fes[0].Msg, tt.key, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), tt.key+": ") {
				t.Errorf("error text %q does not start with the key", err.Error())
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *Profile)
	}{
		{"password skips oauth2", func(p *Profile) { p.Security.Auth = AuthPassword; p.OAuth2 = OAuth2{} }},
		{"tls none on loopback", func(p *Profile) { p.Security.TLS = TLSNone; p.Setup.Host = "127.0.0.1" }},
		{"http endpoints on loopback", func(p *Profile) {
			p.OAuth2.Preset = PresetCustom
			p.OAuth2.TokenURL = "http://127.0.0.1:9000/oauth/token"
			p.OAuth2.AuthorizationURL = "http://localhost:9000/authorize"
		}},
		{"redirect port from uri", func(p *Profile) { p.OAuth2.RedirectPort = 0 }},
		{"redirect ipv6", func(p *Profile) { p.OAuth2.RedirectURI = "http://[::1]:3017/cb"; p.OAuth2.RedirectPort = 3017 }},
		{"client credentials without redirect", func(p *Profile) { p.OAuth2.Flow = FlowClientCredentials; p.OAuth2.RedirectURI = "" }},
		{"client credentials with a certificate file", func(p *Profile) {
			p.OAuth2.Flow, p.OAuth2.ClientAuth, p.OAuth2.ClientCertificateFile = FlowClientCredentials, ClientAuthCertificate, "/etc/mailmover/app.pem"
		}},
		{"service account without client id", func(p *Profile) {
			p.OAuth2.Preset, p.OAuth2.Flow, p.OAuth2.ClientID, p.OAuth2.ServiceAccountFile = PresetGoogle, FlowServiceAccount, "", "~/sa.json"
		}},
		{"move", func(p *Profile) { p.Common.After = AfterMove; p.Common.MoveTo = "Archive" }},
		{"home folder", func(p *Profile) { p.Destination.Folder = "~/Invoices" }},
		{"template", func(p *Profile) { p.Destination.Filename = "{date}/{from} - {subject}/{name}_{uid}.{ext}" }},
		{"all saves", func(p *Profile) { p.Common.Save = []string{SaveMessage, SaveBody, SaveAttachments} }},
		{"since", func(p *Profile) { p.Common.Since = "2024-02-29" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProfile("x")
			tt.change(p)
			if err := p.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestValidateReportsAll(t *testing.T) {
	p := validProfile("x")
	p.Security.TLS = "tcp"
	p.Setup.Port = -1
	p.Destination.OnConflict = ""
	if n := len(FieldErrors(p.Validate())); n != 3 {
		t.Errorf("want 3 problems, got %d: %v", n, p.Validate())
	}
}

// replaceLine returns sampleTOML with the line starting with prefix replaced.
func replaceLine(t *testing.T, prefix, repl string) string {
	t.Helper()
	lines := strings.Split(sampleTOML, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, prefix) {
			lines[i] = repl
			return strings.Join(lines, "\n")
		}
	}
	t.Fatalf("no line %q", prefix)
	return ""
}

func TestParseErrorsNameKeyAndLine(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string // the whole error text
	}{
		{"bad enum", replaceLine(t, "tls =", `tls = "tcp"`),
			`profiles/x.toml: security.tls (line 8): "tcp" is not one of implicit, starttls, none`},
		{"bad enum, CRLF", strings.ReplaceAll(replaceLine(t, "tls =", `tls = "tcp"`), "\n", "\r\n"),
			`profiles/x.toml: security.tls (line 8): "tcp" is not one of implicit, starttls, none`},
		{"bad enum, BOM and CRLF", "\ufeff" + strings.ReplaceAll(replaceLine(t, "tls =", `tls = "tcp"`), "\n", "\r\n"),
			`profiles/x.toml: security.tls (line 8): "tcp" is not one of implicit, starttls, none`},
		{"unknown key with suggestion", replaceLine(t, "search =", `serch = "all"`),
			`profiles/x.toml: common.serch (line 14): unknown key; did you mean "search"?`},
		{"unknown key", replaceLine(t, "from =", `colour = "red"`),
			`profiles/x.toml: common.colour (line 16): unknown key; [common] has search, since, from, subject, attachment_mask, save, after, move_to, watch, poll_interval`},
		{"unknown table", sampleTOML + "\n[extra]\na = 1\nb = 2\n",
			`profiles/x.toml: extra (line 41): unknown table or key; the tables are [common], [destination], [oauth2], [security], [setup]`},
		{"misspelled table", strings.Replace(sampleTOML, "[common]", "[comon]", 1),
			"profiles/x.toml: comon (line 13): unknown table; did you mean [common]?"},
		{"key outside its table", "host = \"x\"\n" + sampleTOML,
			`profiles/x.toml: host (line 1): unknown key at the top of the file; "host" belongs in the [setup] table`},
		{"dotted key", replaceLine(t, "ca_file", `ca.file = "x"`),
			`profiles/x.toml: security.ca.file (line 11): unknown key; did you mean "ca_file"?`},
		{"port string", replaceLine(t, "port =", `port = "993"`),
			"profiles/x.toml: setup.port (line 3): is a string; it must be an integer"},
		{"save string", replaceLine(t, "save =", `save = "attachments"`),
			`profiles/x.toml: common.save (line 19): is a string; it must be a list such as ["attachments"]`},
		{"verify string", replaceLine(t, "verify_certificate", `verify_certificate = "yes"`),
			"profiles/x.toml: security.verify_certificate (line 10): is a string; it must be true or false"},
		{"bad duration", replaceLine(t, "poll_interval", `poll_interval = "often"`),
			`profiles/x.toml: common.poll_interval (line 23): time: invalid duration "often"; write a duration such as "60s" or "5m"`},
		{"duration number", replaceLine(t, "poll_interval", `poll_interval = 60`),
			`profiles/x.toml: common.poll_interval (line 23): time: missing unit in duration "60"; write a duration such as "60s" or "5m"`},
		{"table as value", "setup = 5\n", "profiles/x.toml: setup (line 1): is an integer; it must be a table, written [setup]"},
		{"array of tables", "[[setup]]\nhost = \"x\"\n", "profiles/x.toml: setup (line 1): is an array of tables [[…]]; it must be a table, written [setup]"},
		{"float port", replaceLine(t, "port =", `port = 9.5`), "profiles/x.toml: setup.port (line 3): is a decimal number; it must be an integer"},
		{"syntax", replaceLine(t, "folder = \"INBOX\"", `folder = INBOX`),
			`profiles/x.toml: setup.folder (line 5): expected value but found "INBOX" instead`},
		{"blank key", replaceLine(t, "subject =", `= 1`),
			"profiles/x.toml (line 17): unexpected '=': key name appears blank"},
		{"bad escape", replaceLine(t, "subject =", `subject = "a\q"`),
			`profiles/x.toml: common.subject (line 17): invalid escape in string '\q'`},
		{"duplicate", replaceLine(t, "folder = \"INBOX\"", `port = 143`),
			"profiles/x.toml: setup.port (line 5): is given twice; each key (and table) may appear only once (first at line 3)"},
		{"duplicate table", sampleTOML + "\n[setup]\nx = 1\n",
			"profiles/x.toml: setup (line 41): is given twice; each key (and table) may appear only once (first at line 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseProfile("x", []byte(tt.text))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got  %s\nwant %s", err, tt.want)
			}
			if len(FieldErrors(err)) == 0 {
				t.Errorf("%v is not a *FieldError", err)
			}
		})
	}
}

func TestParseManyUnknownKeys(t *testing.T) {
	var b strings.Builder
	b.WriteString("[setup]\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "k%d = %d\n", i, i)
	}
	start := time.Now()
	_, err := ParseProfile("x", []byte(b.String()))
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
	fes := FieldErrors(err)
	if len(fes) != 21 || fes[0].Line != 2 || fes[20].Msg != "and 4980 more unknown keys" {
		t.Errorf("%d errors: %v", len(fes), err)
	}
}

func TestParseLeftOutKeysKeepDefaults(t *testing.T) {
	text := `[setup]
host = "imap.gmail.com"
username = "a@gmail.com"
[security]
auth = "password"
[destination]
folder = "/tmp/in"
`
	p, err := ParseProfile("g", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if p.Setup.Port != 993 || p.Setup.Folder != "INBOX" || !p.Security.VerifyCertificate || p.Common.PollInterval.Duration != time.Minute {
		t.Errorf("defaults lost: %+v", p)
	}
}

func TestParseRefusesBadName(t *testing.T) {
	if _, err := ParseProfile("../x", []byte(sampleTOML)); !errors.Is(err, ErrBadProfileName) {
		t.Errorf("got %v", err)
	}
}

func TestKeyLines(t *testing.T) {
	text := `# comment = 1
top = 1
[a]
b = """
c = 2
"""
d = [
  "e = 3", # x = 1
]
"f.g" = 'h'
i.j = {k = 1}
[ "x y" . z ]
w = "a\"b = c"
v = 1
[[arr]]
u = 1
`
	got := keyLines(text)
	want := map[string]int{"top": 2, "a": 3, "a.b": 4, "a.d": 7, "a.f.g": 10, "a.i.j": 11, "x y.z": 12, "x y.z.w": 13, "x y.z.v": 14, "arr": 15, "arr.u": 16}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	if n := lineOf(got, "a.i.j.k"); n != 11 {
		t.Errorf("lineOf parent: %d", n)
	}
}

func TestValidProfileName(t *testing.T) {
	good := []string{"a", "Contoso Invoices", "invoices@contoso.example", "a-b_c.d+e", "Rechnungen-Größe", strings.Repeat("x", 64), "con2", "com"}
	bad := []string{"", ".hidden", "a/b", `a\b`, "a..b", "..", "a\x00", "a\nb", "trail.", "trail ", " lead",
		strings.Repeat("x", 65), "CON", "nul.txt", "Lpt1", "a:b", "a*b", "\xff"}
	for _, n := range good {
		if err := ValidProfileName(n); err != nil {
			t.Errorf("%q refused: %v", n, err)
		}
	}
	for _, n := range bad {
		if err := ValidProfileName(n); !errors.Is(err, ErrBadProfileName) {
			t.Errorf("%q accepted (%v)", n, err)
		}
	}
}

func TestHomeFrom(t *testing.T) {
	env := map[string]string{HomeEnv: "/srv/mm"}
	h, err := HomeFrom(func(k string) string { return env[k] })
	if err != nil || h != "/srv/mm" {
		t.Errorf("HomeFrom = %q, %v", h, err)
	}
	t.Setenv("XDG_CONFIG_HOME", "/home/u/.config")
	h, err = HomeFrom(func(string) string { return "" })
	if err != nil || h != "/home/u/.config/mailmover" {
		t.Errorf("HomeFrom without env = %q, %v", h, err)
	}
	if ProfilePath("/h", "p") != "/h/profiles/p.toml" || StatePath("/h", "p") != "/h/state/p.json" || LogDir("/h") != "/h/logs" {
		t.Error("paths differ from design.md")
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	home := t.TempDir()
	p := validProfile("rt")
	p.Common.Subject = `Rechnung "Nr" \ Größe` + "\u00a0"
	p.Common.Save = []string{SaveMessage, SaveAttachments}
	p.Common.PollInterval.Duration = 90 * time.Second
	p.Security.CAFile = "~/ca.pem"
	p.Destination.Filename = "{date}/{filename}"
	if err := SaveProfile(home, p); err != nil {
		t.Fatal(err)
	}
	got, err := LoadProfile(home, "rt")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("loaded\n%+v\nsaved\n%+v", got, p)
	}

	path := ProfilePath(home, "rt")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	if st, _ := os.Stat(ProfileDir(home)); st.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v, want 0700", st.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "# MailMover profile. No secrets here") || !strings.Contains(string(data), `poll_interval = "90s"`) {
		t.Errorf("file:\n%s", data)
	}

	// Saving again replaces the file and leaves no temporary file behind.
	p.Setup.Port = 143
	p.Security.TLS = TLSStartTLS
	if err := SaveProfile(home, p); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(ProfileDir(home))
	if len(entries) != 1 || entries[0].Name() != "rt.toml" {
		t.Errorf("profiles folder holds %v", entries)
	}
	if got, _ := LoadProfile(home, "rt"); got == nil || got.Setup.Port != 143 {
		t.Errorf("second save not read back: %+v", got)
	}
}

func TestSaveRefusesInvalid(t *testing.T) {
	home := t.TempDir()
	p := validProfile("bad")
	p.Security.TLS = "tcp"
	err := SaveProfile(home, p)
	fes := FieldErrors(err)
	if len(fes) != 1 || fes[0].Key != "security.tls" || fes[0].File != "profiles/bad.toml" {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(ProfilePath(home, "bad")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("an invalid profile was written: %v", err)
	}
	p.Name = "a/b"
	if err := SaveProfile(home, validProfile("a/b")); !errors.Is(err, ErrBadProfileName) {
		t.Errorf("bad name: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	home := t.TempDir()
	if _, err := LoadProfile(home, "none"); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "mailmover profiles") {
		t.Errorf("missing: %v", err)
	}
	os.MkdirAll(ProfileDir(home), 0o700)
	os.WriteFile(ProfilePath(home, "p"), []byte(replaceLine(t, "tls =", `tls = "tcp"`)), 0o600)
	_, err := LoadProfile(home, "p")
	fes := FieldErrors(err)
	if len(fes) != 1 || fes[0].File != ProfilePath(home, "p") || fes[0].Line != 8 {
		t.Errorf("got %v", err)
	}
}

func TestListProfiles(t *testing.T) {
	home := t.TempDir()
	names, err := ListProfiles(home)
	if err != nil || len(names) != 0 || names == nil {
		t.Fatalf("empty home: %v, %v", names, err)
	}
	for _, n := range []string{"b", "a", "Z"} {
		if err := SaveProfile(home, validProfile(n)); err != nil {
			t.Fatal(err)
		}
	}
	dir := ProfileDir(home)
	os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, ".hidden.toml"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, ".a.toml.tmp-123"), nil, 0o600)
	os.Mkdir(filepath.Join(dir, "dir.toml"), 0o700)
	names, err = ListProfiles(home)
	if err != nil || !reflect.DeepEqual(names, []string{"Z", "a", "b"}) {
		t.Errorf("ListProfiles = %v, %v", names, err)
	}
}

// withSecrets stores every kind of secret for profile in a fresh MemorySecrets.
func withSecrets(t *testing.T, profile string) *MemorySecrets {
	t.Helper()
	s := NewMemorySecrets()
	for _, k := range SecretKinds {
		if err := s.Set(profile, k, "v-"+k); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestRenameProfile(t *testing.T) {
	home := t.TempDir()
	if err := SaveProfile(home, validProfile("old")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(StateDir(home), 0o700)
	os.WriteFile(StatePath(home, "old"), []byte("{}"), 0o600)
	sec := withSecrets(t, "old")
	sec.Set("other", SecretPassword, "x")

	if err := RenameProfile(home, "old", "new", sec); err != nil {
		t.Fatal(err)
	}
	want := []string{"new/access-token", "new/client-certificate", "new/client-secret", "new/password", "new/refresh-token", "new/service-account", "other/password"}
	if got := sec.Accounts(); !reflect.DeepEqual(got, want) {
		t.Errorf("accounts %v, want %v", got, want)
	}
	if v, _ := sec.Get("new", SecretRefreshToken); v != "v-refresh-token" {
		t.Errorf("refresh token moved as %q", v)
	}
	if names, _ := ListProfiles(home); !reflect.DeepEqual(names, []string{"new"}) {
		t.Errorf("profiles %v", names)
	}
	if _, err := os.Stat(StatePath(home, "new")); err != nil {
		t.Errorf("state not moved: %v", err)
	}
	if _, err := os.Stat(StatePath(home, "old")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("old state remains: %v", err)
	}
	if p, err := LoadProfile(home, "new"); err != nil || p.Name != "new" {
		t.Errorf("load renamed: %v", err)
	}

	// Onto an existing profile: refused, nothing changes.
	SaveProfile(home, validProfile("taken"))
	if err := RenameProfile(home, "new", "taken", sec); !errors.Is(err, ErrProfileExists) {
		t.Errorf("rename onto existing: %v", err)
	}
	if err := RenameProfile(home, "ghost", "x", sec); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("rename missing: %v", err)
	}
	// With the keyring down nothing moves.
	sec.SetUnavailable(true)
	var ue *KeyringUnavailableError
	if err := RenameProfile(home, "new", "newer", sec); !errors.As(err, &ue) {
		t.Errorf("rename with keyring down: %v", err)
	}
	sec.SetUnavailable(false)
	if names, _ := ListProfiles(home); !reflect.DeepEqual(names, []string{"new", "taken"}) {
		t.Errorf("profiles after failed renames %v", names)
	}
}

func TestRenameAndDeleteRefuseRunningProfile(t *testing.T) {
	home := t.TempDir()
	SaveProfile(home, validProfile("busy"))
	f, err := lockState(home, "busy")
	if err != nil {
		t.Fatal(err)
	}
	defer unlockState(f)
	if err := RenameProfile(home, "busy", "idle", nil); !errors.Is(err, ErrStateLocked) {
		t.Errorf("rename running: %v", err)
	}
	if err := DeleteProfile(home, "busy", nil); !errors.Is(err, ErrStateLocked) {
		t.Errorf("delete running: %v", err)
	}
	if !ProfileExists(home, "busy") {
		t.Error("running profile removed")
	}
}

func TestDeleteProfile(t *testing.T) {
	home := t.TempDir()
	SaveProfile(home, validProfile("gone"))
	os.MkdirAll(StateDir(home), 0o700)
	os.WriteFile(StatePath(home, "gone"), []byte("{}"), 0o600)
	sec := withSecrets(t, "gone")
	sec.Set("kept", SecretPassword, "x")

	sec.SetUnavailable(true)
	var ue *KeyringUnavailableError
	if err := DeleteProfile(home, "gone", sec); !errors.As(err, &ue) || !ProfileExists(home, "gone") {
		t.Fatalf("keyring down: %v; file kept: %v", err, ProfileExists(home, "gone"))
	}
	sec.SetUnavailable(false)

	if err := DeleteProfile(home, "gone", sec); err != nil {
		t.Fatal(err)
	}
	if got := sec.Accounts(); !reflect.DeepEqual(got, []string{"kept/password"}) {
		t.Errorf("accounts left %v", got)
	}
	if ProfileExists(home, "gone") {
		t.Error("profile file remains")
	}
	entries, _ := os.ReadDir(StateDir(home))
	if len(entries) != 0 {
		t.Errorf("state folder holds %v", entries)
	}
	if err := DeleteProfile(home, "gone", sec); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("second delete: %v", err)
	}
}

func TestDuplicateProfile(t *testing.T) {
	home := t.TempDir()
	SaveProfile(home, validProfile("src"))
	sec := withSecrets(t, "src")
	if err := DuplicateProfile(home, "src", "dst", sec); err != nil {
		t.Fatal(err)
	}
	want := []string{"dst/client-certificate", "dst/client-secret", "dst/password", "dst/service-account",
		"src/access-token", "src/client-certificate", "src/client-secret", "src/password", "src/refresh-token", "src/service-account"}
	if got := sec.Accounts(); !reflect.DeepEqual(got, want) {
		t.Errorf("accounts %v, want %v (tokens are not copied)", got, want)
	}
	p, err := LoadProfile(home, "dst")
	if err != nil || p.Name != "dst" || p.Setup.Host != "outlook.office365.com" {
		t.Errorf("copy: %+v %v", p, err)
	}
	if err := DuplicateProfile(home, "src", "dst", sec); !errors.Is(err, ErrProfileExists) {
		t.Errorf("copy onto existing: %v", err)
	}
}

func TestExpandPath(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	for in, want := range map[string]string{"~": "/home/u", "~/in": "/home/u/in", "/srv/x/../y": "/srv/y"} {
		if got, err := ExpandPath(in); err != nil || got != want {
			t.Errorf("ExpandPath(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ExpandPath("rel/x"); err == nil {
		t.Error("relative path accepted")
	}
	p := validProfile("x")
	p.Destination.Folder = "~/in"
	p.Security.CAFile = "~/ca.pem"
	if d, err := p.DestinationDir(); err != nil || d != "/home/u/in" {
		t.Errorf("DestinationDir = %q, %v", d, err)
	}
	if f, err := p.CAFilePath(); err != nil || f != "/home/u/ca.pem" {
		t.Errorf("CAFilePath = %q, %v", f, err)
	}
	p.Security.CAFile = ""
	if f, err := p.CAFilePath(); err != nil || f != "" {
		t.Errorf("no CA file: %q, %v", f, err)
	}
}

func FuzzParseProfile(f *testing.F) {
	f.Add([]byte(sampleTOML))
	f.Add([]byte("[setup]\nhost = \"h\"\n"))
	f.Add([]byte(strings.Replace(sampleTOML, `subject = ""`, `subject = "a\u0000b\"c"`, 1)))
	f.Add([]byte("[common]\nsave = [1, \"x\"]\n[[setup]]\n"))
	f.Add([]byte("a.b.c = {d = [1,2]}\n"))
	f.Add([]byte(strings.Replace(sampleTOML, `folder = "/srv/mail-in"`, `folder = "~/in \u00e9 \\ \" x"`, 1)))
	f.Add([]byte("\ufeff" + strings.ReplaceAll(sampleTOML, "\n", "\r\n")))
	f.Add([]byte(sampleTOML + "\n[setup]\nport = 1\n"))
	f.Add([]byte("[setup]\nport = 1\nport = 2\nhost = '''\n[x]\n'''\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProfile("fz", data)
		if err != nil {
			if len(FieldErrors(err)) == 0 {
				t.Fatalf("error without FieldError: %v", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted profile fails Validate: %v", err)
		}
		out, err := EncodeProfile(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParseProfile("fz", out)
		if err != nil {
			t.Fatalf("re-parse of\n%s\nfailed: %v", out, err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip changed the profile:\n%+v\n%+v", p, q)
		}
	})
}

// FuzzEncodeStrings puts arbitrary text into the free-text keys: whatever Validate accepts
// must come back from the file unchanged, and whatever it refuses must be refused on load.
func FuzzEncodeStrings(f *testing.F) {
	f.Add("Rechnung \"Nr\" \\ 1", "a@b", "INBOX/Größe", "~/in")
	f.Add("\u2028\ufeff'''\"\"\"", "#x = 1", "[setup]", "/srv/a b")
	f.Add("a\x7fb", "\t", "x\u0085y", "/\\")
	f.Fuzz(func(t *testing.T, subject, from, folder, dest string) {
		if !utf8.ValidString(subject + from + folder + dest) {
			t.Skip("the writer replaces invalid UTF-8; Validate refuses it (tested elsewhere)")
		}
		p := validProfile("fz")
		p.Common.Subject, p.Common.From, p.Setup.Folder, p.Destination.Folder = subject, from, folder, dest
		valid := p.Validate() == nil
		out, err := EncodeProfile(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParseProfile("fz", out)
		if valid != (err == nil) {
			t.Fatalf("Validate ok=%v but re-parse err=%v\n%s", valid, err, out)
		}
		if valid && !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip changed the profile:\n%+v\n%+v", p, q)
		}
	})
}

func TestRedirectProblem(t *testing.T) {
	good := []struct {
		uri  string
		port int
	}{{"http://localhost:3017/", 3017}, {"http://127.0.0.1:8080/cb", 0}, {"http://[::1]:1/", 1}, {"http://LocalHost:3017", 3017}}
	for _, g := range good {
		if why := RedirectProblem(g.uri, g.port); why != "" {
			t.Errorf("%s %d refused: %s", g.uri, g.port, why)
		}
	}
	bad := []struct {
		uri  string
		port int
		msg  string
	}{
		{"https://localhost:3017/", 3017, "must use http"},
		{"http://login.example:3017/", 3017, "must point to localhost"},
		{"http://localhost.example.com:3017/", 3017, "must point to localhost"},
		{"http://localhost/", 0, "has no port"},
		{"http://localhost:0/", 0, "bad port"},
		{"http://localhost:99999/", 0, "bad port"},
		{"http://localhost:3017/?a=b", 3017, "must not have a user, query or fragment"},
		{"http://u@localhost:3017/", 3017, "must not have a user"},
		{"http://localhost:3017/", 3018, "redirect_port 3018 differs from the port 3017"},
		{"localhost:3017", 3017, "not a URL"},
		{"", 0, "not a URL"},
		{"http://localhost:03017/", 3017, "bad port"},
		{"http://localhost:3017/a/../b", 3017, "path"},
		{"http://localhost:3017/ x", 3017, "space"},
		{"http://localhost:3017/#", 3017, "fragment"},
	}
	for _, b := range bad {
		if why := RedirectProblem(b.uri, b.port); !strings.Contains(why, b.msg) {
			t.Errorf("%q %d: %q, want …%s…", b.uri, b.port, why, b.msg)
		}
	}
}

func FuzzRedirectProblem(f *testing.F) {
	f.Add("http://localhost:3017/", 3017)
	f.Add("http://[::1]:1/x", 0)
	f.Add("http://127.0.0.1:65535", -1)
	f.Fuzz(func(t *testing.T, uri string, port int) {
		if RedirectProblem(uri, port) != "" {
			return
		}
		u, err := url.Parse(uri)
		if err != nil || u.Scheme != "http" || !IsLoopbackHost(u.Hostname()) || u.Port() == "" {
			t.Fatalf("accepted %q (%d)", uri, port)
		}
		if p, _ := strconv.Atoi(u.Port()); port != 0 && port != p {
			t.Fatalf("accepted %q with port %d", uri, port)
		}
	})
}
