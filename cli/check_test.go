package cli

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mailmover/internal/memimap"
	"mailmover/internal/testenv"
	"mailmover/mover"
	"mailmover/store"
)

// checkServer starts memimap with implicit TLS and returns a saved profile "c" that
// reaches it with a password, and the keyring holding that password.
func checkServer(t *testing.T) (Env, *strings.Builder, *store.Profile, *store.MemorySecrets, string, *memimap.Server) {
	t.Helper()
	env, _, errb, sec, home := secretTestEnv(t, "")
	cert, err := memimap.NewCert(memimap.CertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := memimap.Start(memimap.Options{TLS: cert.Server})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	srv.AddUser("box@example.com", "pw")
	srv.CreateFolder("box@example.com", "Archiv/Ältere")
	for i, subj := range []string{"Invoice 1", "Invoice 2", "Hello"} {
		flags := []string{}
		if i == 1 {
			flags = append(flags, `\Seen`)
		}
		srv.Append("box@example.com", "INBOX", []byte("From: billing@example.com\r\nSubject: "+subj+"\r\n\r\nbody\r\n"), flags...)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, cert.PEM, 0o600)
	p := store.DefaultProfile("c")
	p.Setup.Host, p.Setup.Port, p.Setup.Username = "localhost", srv.Port(), "box@example.com"
	p.Security.Auth, p.Security.CAFile = store.AuthPassword, ca
	p.Destination.Folder = t.TempDir()
	if err := store.SaveProfile(home, p); err != nil {
		t.Fatal(err)
	}
	sec.Set("c", store.SecretPassword, "pw")
	out := &strings.Builder{}
	env.Stdout = out
	_ = errb
	return env, out, p, sec, home, srv
}

func TestCheckCommand(t *testing.T) {
	env, out, p, sec, home, _ := checkServer(t)
	timeout := "20s"
	run := func() int {
		out.Reset()
		return Run(context.Background(), []string{"check", "-profile", "c", "-timeout", timeout}, env)
	}
	save := func(edit func(*store.Profile)) {
		q := *p
		edit(&q)
		if err := store.SaveProfile(home, &q); err != nil {
			t.Fatal(err)
		}
	}
	if code := run(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	for _, want := range []string{"OK: signed in to localhost:", "PLAIN", "TLS 1.3", `Folder "INBOX": 3 messages`,
		"Matching mail (unseen): 2", "  INBOX\n", "  Archiv/Ältere\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	for _, tc := range []struct {
		name string
		edit func(*store.Profile)
		prep func()
		want []string
	}{
		{"wrong password", nil, func() { sec.Set("c", store.SecretPassword, "nope") },
			[]string{"FAILED: the server refused the username or password", "fix:", "secret set"}},
		{"no password stored", nil, func() { sec.Delete("c", store.SecretPassword) },
			[]string{"FAILED", "secret set -profile c password"}},
		{"wrong CA", func(q *store.Profile) { q.Security.CAFile = otherCAFile(t) }, nil,
			[]string{"FAILED: the certificate of localhost is signed by an unknown authority", "ca_file"}},
		{"missing folder", func(q *store.Profile) { q.Setup.Folder = "Rechnungen" }, nil,
			[]string{`FAILED: cannot open folder "Rechnungen"`, `"Archiv/Ältere"`}},
		{"missing move target", func(q *store.Profile) { q.Common.After, q.Common.MoveTo = store.AfterMove, "Done" }, nil,
			[]string{"OK:", `FAILED: the move target folder "Done" does not exist`}},
		{"wrong mode for the port", func(q *store.Profile) { q.Security.TLS = store.TLSStartTLS }, nil,
			[]string{"FAILED", "implicit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sec.Set("c", store.SecretPassword, "pw")
			save(func(*store.Profile) {})
			if tc.edit != nil {
				save(tc.edit)
			}
			if tc.prep != nil {
				tc.prep()
			}
			timeout = "20s"
			if tc.name == "wrong mode for the port" {
				timeout = "4s" // the STARTTLS client waits timeout/2 for a greeting that never comes
			}
			if code := run(); code != 1 {
				t.Fatalf("exit %d, want 1:\n%s", code, out)
			}
			for _, want := range tc.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out.String(), "nope") {
				t.Errorf("the password leaked:\n%s", out)
			}
		})
	}
	if code := Run(context.Background(), []string{"check"}, env); code != 2 {
		t.Errorf("no -profile: exit %d", code)
	}
	if code := Run(context.Background(), []string{"check", "-profile", "nosuch"}, env); code != 1 {
		t.Errorf("missing profile: exit %d", code)
	}
}

func otherCAFile(t *testing.T) string {
	cert, err := memimap.NewCert(memimap.CertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "other.pem")
	os.WriteFile(p, cert.PEM, 0o600)
	return p
}

// The real thing: `mailmover check` against Dovecot with each sign-in method, the OAuth2
// ones with a refresh token of the test provider (the token source refreshes it).
func TestCheckCommandDovecot(t *testing.T) {
	d := testenv.Dovecot(t)
	o := testenv.OIDC(t)
	for _, tc := range []struct{ auth, tls string }{
		{store.AuthPassword, store.TLSImplicit},
		{store.AuthXOAuth2, store.TLSStartTLS},
		{store.AuthOAuthBearer, store.TLSImplicit},
	} {
		t.Run(tc.auth, func(t *testing.T) {
			env, _, _, sec, home := secretTestEnv(t, "")
			out := &strings.Builder{}
			env.Stdout = out
			p := store.DefaultProfile("d")
			p.Setup.Host, p.Setup.Username = d.Host, d.User
			p.Setup.Port = d.IMAPSPort
			if tc.tls == store.TLSStartTLS {
				p.Setup.Port = d.IMAPPort
			}
			p.Security.TLS, p.Security.Auth, p.Security.CAFile = tc.tls, tc.auth, d.CAFile
			p.Destination.Folder = t.TempDir()
			if tc.auth == store.AuthPassword {
				sec.Set("d", store.SecretPassword, d.Password)
			} else {
				tok := testenv.OIDCToken(t)
				p.OAuth2 = store.OAuth2{Preset: store.PresetCustom, Flow: store.FlowAuthCode,
					AuthorizationURL: o.AuthURL(), TokenURL: o.TokenURL(), ClientID: o.NativeClientID,
					Scope: strings.Join(testenv.Scopes, " "), RedirectURI: "http://127.0.0.1:49151/callback", RedirectPort: 49151}
				sec.Set("d", store.SecretRefreshToken, tok.RefreshToken)
			}
			if err := store.SaveProfile(home, p); err != nil {
				t.Fatal(err)
			}
			code := Run(context.Background(), []string{"check", "-profile", "d"}, env)
			t.Logf("output:\n%s", out)
			if code != 0 || !strings.HasPrefix(out.String(), "OK: ") || !strings.Contains(out.String(), "  INBOX\n") {
				t.Fatalf("exit %d", code)
			}
		})
	}
}

// A refresh token the provider does not know: check says to sign in again.
func TestCheckCommandDovecotBadRefreshToken(t *testing.T) {
	d := testenv.Dovecot(t)
	o := testenv.OIDC(t)
	env, _, _, sec, home := secretTestEnv(t, "")
	out := &strings.Builder{}
	env.Stdout = out
	p := store.DefaultProfile("d")
	p.Setup.Host, p.Setup.Username, p.Setup.Port = d.Host, d.User, d.IMAPSPort
	p.Security.CAFile = d.CAFile
	p.Destination.Folder = t.TempDir()
	p.OAuth2 = store.OAuth2{Preset: store.PresetCustom, Flow: store.FlowAuthCode,
		AuthorizationURL: o.AuthURL(), TokenURL: o.TokenURL(), ClientID: o.NativeClientID,
		Scope: strings.Join(testenv.Scopes, " "), RedirectURI: "http://127.0.0.1:49151/callback", RedirectPort: 49151}
	sec.Set("d", store.SecretRefreshToken, "not-a-refresh-token")
	if err := store.SaveProfile(home, p); err != nil {
		t.Fatal(err)
	}
	code := Run(context.Background(), []string{"check", "-profile", "d"}, env)
	t.Logf("output:\n%s", out)
	if code != 1 || !strings.Contains(out.String(), "FAILED") || !strings.Contains(out.String(), "mailmover login -profile d") {
		t.Fatalf("exit %d", code)
	}
}

// What check says when the profile itself is the problem: the advice fits the cause, and
// several bad keys stay under "cause:".
func TestCheckCommandProfileProblems(t *testing.T) {
	env, _, _, _, home := secretTestEnv(t, "")
	out := &strings.Builder{}
	env.Stdout = out
	os.MkdirAll(store.ProfileDir(home), 0o700)
	os.WriteFile(store.ProfilePath(home, "bad"), []byte("[setup]\nport = 0\n"), 0o600)
	os.WriteFile(store.ProfilePath(home, "huge"), make([]byte, store.MaxProfileSize+1), 0o600)
	for _, tc := range []struct {
		name string
		want []string
		not  string
	}{
		{"nosuch", []string{"FAILED: cannot load profile nosuch", "mailmover profiles"}, "named key"},
		{"bad", []string{"setup.port (line 2)", "\n         ", "Fix what is named above (key and line) in "}, ""},
		{"huge", []string{"at most", "readable profile file"}, "named key"},
	} {
		out.Reset()
		if code := Run(context.Background(), []string{"check", "-profile", tc.name}, env); code != 1 {
			t.Errorf("%s: exit %d", tc.name, code)
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, w, out)
			}
		}
		if tc.not != "" && strings.Contains(out.String(), tc.not) {
			t.Errorf("%s: output holds %q:\n%s", tc.name, tc.not, out)
		}
		for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if !strings.HasPrefix(line, "FAILED:") && !strings.HasPrefix(line, "  ") {
				t.Errorf("%s: line %q is not indented:\n%s", tc.name, line, out)
			}
		}
	}
}

// A server that accepts TLS connections but never completes the handshake: check fails
// in bounded time with the handshake as the cause, not "no answer within <-timeout>".
func TestCheckCommandSilentServer(t *testing.T) {
	env, out, p, _, home, _ := checkServer(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // silent until the test ends
		}
	}()
	q := *p
	q.Setup.Host, q.Setup.Port = "127.0.0.1", l.Addr().(*net.TCPAddr).Port
	if err := store.SaveProfile(home, &q); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code := Run(context.Background(), []string{"check", "-profile", "c", "-timeout", "4s"}, env)
	if el := time.Since(start); el > 8*time.Second {
		t.Errorf("check took %v", el)
	}
	if code != 1 || !strings.Contains(out.String(), "TLS handshake") || strings.Contains(out.String(), "no answer within 4s") {
		t.Errorf("exit %d:\n%s", code, out)
	}
}

// Folder names from the server are printed as they are, unless they hold control
// characters (a hostile server could forge "OK" lines or drive the terminal): then quoted.
func TestCheckReportQuotesHostileFolderNames(t *testing.T) {
	rep := &mover.CheckReport{Folders: []mover.Folder{{Name: "INBOX"}, {Name: "Archiv/Ältere"},
		{Name: "x\nOK: forged line"}, {Name: "\x1b]0;title\x07"}, {Name: "bad\xffutf8"}, {Name: "a\u202eb"}}}
	var b strings.Builder
	printReport(&b, rep)
	out := b.String()
	for _, want := range []string{"  INBOX\n", "  Archiv/Ältere\n", `  "x\nOK: forged line"`, `  "\x1b]0;title\a"`, `  "bad\xffutf8"`, `  "a\u202eb"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\nOK: forged") || strings.ContainsRune(out, 0x1b) {
		t.Errorf("raw control characters in:\n%q", out)
	}
}
