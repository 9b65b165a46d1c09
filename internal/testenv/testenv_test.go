package testenv

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
	"golang.org/x/oauth2"
)

// xoauth2 is a minimal XOAUTH2 sasl.Client for this test (the product's own lives in
// imapsrc). It answers the error challenge with "\x01": go-imap beta.8 would send an
// empty answer as "=", which Dovecot refuses (see design.md, known library quirks).
type xoauth2 struct{ user, token string }

func (x xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

func (x xoauth2) Next([]byte) ([]byte, error) { return []byte{1}, nil }

func dialTLS(t *testing.T, d DovecotEnv) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialTLS(d.IMAPSAddr(), &imapclient.Options{TLSConfig: d.TLSConfig(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestDovecotPasswordBothListeners(t *testing.T) {
	d := Dovecot(t)
	c, err := imapclient.DialStartTLS(d.IMAPAddr(), &imapclient.Options{TLSConfig: d.TLSConfig(t)})
	if err != nil {
		t.Fatalf("STARTTLS: %v", err)
	}
	defer c.Close()
	if err := c.Login(d.User, d.Password).Wait(); err != nil {
		t.Fatalf("login over STARTTLS: %v", err)
	}
	if err := c.Login(d.User, "wrong").Wait(); err == nil {
		t.Error("a second LOGIN succeeded")
	}

	c2 := dialTLS(t, d)
	if err := c2.Login(d.User, "wrong-"+d.Password).Wait(); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
}

func TestMailboxHelpers(t *testing.T) {
	d := Dovecot(t)
	box := d.NewMailbox(t, "testenv")
	msg := []byte("From: a@example.test\r\nTo: b@example.test\r\nSubject: hello\r\n\r\nbody\r\n")
	d.Append(t, box, msg, msg)
	data, err := d.Dial(t).Status(box, &imap.StatusOptions{NumMessages: true, NumUnseen: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if *data.NumMessages != 2 || *data.NumUnseen != 2 {
		t.Fatalf("status of %s: %d messages, %d unseen; want 2, 2", box, *data.NumMessages, *data.NumUnseen)
	}
}

func TestOIDCTokenOpensDovecot(t *testing.T) {
	d, o := Dovecot(t), OIDC(t)
	if o.User != d.User {
		t.Fatalf("provider user %q is not Dovecot's mail user %q", o.User, d.User)
	}
	tok := OIDCToken(t)

	tests := []struct {
		name   string
		client func(token string) sasl.Client
	}{
		{"XOAUTH2", func(tk string) sasl.Client { return xoauth2{d.User, tk} }},
		{"OAUTHBEARER", func(tk string) sasl.Client {
			return sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: d.User, Token: tk,
				Host: d.Host, Port: d.IMAPSPort})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialTLS(t, d)
			if err := c.Authenticate(tt.client(tok.AccessToken)); err != nil {
				t.Fatalf("%s with a fresh token: %v\n%s", tt.name, err, d.LogTail(10))
			}
			if _, err := c.Select("INBOX", nil).Wait(); err != nil {
				t.Fatalf("SELECT after %s: %v", tt.name, err)
			}
		})
	}

	// Refreshing rotates the refresh token and ends the old access token at once.
	old := *tok
	old.Expiry = time.Now().Add(-time.Minute)
	fresh, err := o.NativeConfig("http://127.0.0.1:49151/callback").TokenSource(context.Background(), &old).Token()
	if err != nil {
		t.Fatal(err)
	}
	if fresh.RefreshToken == tok.RefreshToken {
		t.Error("refresh did not rotate the refresh token")
	}
	c := dialTLS(t, d)
	err = c.Authenticate(xoauth2{d.User, tok.AccessToken})
	var ie *imap.Error
	if !errors.As(err, &ie) || ie.Type != imap.StatusResponseTypeNo {
		t.Fatalf("XOAUTH2 with the rotated-out token: err = %v, want a NO", err)
	}
	c2 := dialTLS(t, d)
	if err := c2.Authenticate(xoauth2{d.User, fresh.AccessToken}); err != nil {
		t.Fatalf("XOAUTH2 with the refreshed token: %v", err)
	}
}

func TestSignInRefusesWrongPassword(t *testing.T) {
	o := OIDC(t)
	o.Password = "not-" + o.Password
	cfg := o.NativeConfig("http://localhost:3017/")
	_, err := o.SignIn(t.Context(), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if err == nil || !strings.Contains(err.Error(), "wrong") {
		t.Fatalf("sign-in with a wrong password: err = %v", err)
	}
}

func TestKeyring(t *testing.T) {
	Keyring(t) // probes Set + Delete on the real Secret Service
}

// fakeTB records Skip and Fatal; both stop the helper by panicking.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

type stop struct{}

func (f *fakeTB) Helper()                   {}
func (f *fakeTB) Skip(args ...any)          { f.skipped = fmt.Sprint(args...); panic(stop{}) }
func (f *fakeTB) Fatal(args ...any)         { f.failed = fmt.Sprint(args...); panic(stop{}) }
func (f *fakeTB) Fatalf(s string, a ...any) { f.failed = fmt.Sprintf(s, a...); panic(stop{}) }

func run(f *fakeTB, fn func(testing.TB)) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(stop); !ok {
				panic(r)
			}
		}
	}()
	fn(f)
}

func TestMissingEnvSkipsOrFails(t *testing.T) {
	for _, n := range []string{"MM_DOVECOT_HOST", "MM_OIDC_ISSUER", "MM_KEYRING", "MM_DISPLAY"} {
		t.Setenv(n, "")
	}
	helpers := map[string]func(testing.TB){
		"Dovecot": func(tb testing.TB) { Dovecot(tb) },
		"OIDC":    func(tb testing.TB) { OIDC(tb) },
		"Keyring": Keyring,
		"Display": func(tb testing.TB) { Display(tb) },
	}
	for name, fn := range helpers {
		t.Run(name, func(t *testing.T) {
			t.Setenv("MM_REQUIRE_REAL", "")
			f := &fakeTB{}
			run(f, fn)
			if f.skipped == "" || f.failed != "" || !strings.Contains(f.skipped, "make test") {
				t.Errorf("without MM_REQUIRE_REAL: skipped %q, failed %q; want a skip naming make test", f.skipped, f.failed)
			}
			t.Setenv("MM_REQUIRE_REAL", "1")
			f = &fakeTB{}
			run(f, fn)
			if f.failed == "" || f.skipped != "" {
				t.Errorf("with MM_REQUIRE_REAL=1: skipped %q, failed %q; want a failure", f.skipped, f.failed)
			}
		})
	}
	f := &fakeTB{}
	t.Setenv("MM_DOVECOT_HOST", "127.0.0.1")
	t.Setenv("MM_DOVECOT_IMAP_PORT", "imap")
	for _, n := range []string{"MM_DOVECOT_IMAPS_PORT", "MM_DOVECOT_CA", "MM_DOVECOT_USER", "MM_DOVECOT_PASSWORD"} {
		t.Setenv(n, "x")
	}
	run(f, func(tb testing.TB) { Dovecot(tb) })
	if !strings.Contains(f.failed, "MM_DOVECOT_IMAP_PORT") {
		t.Errorf("bad port: failure %q does not name the variable", f.failed)
	}
}
