package memimap

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
)

const user, pass, token = "alice@example.com", "pw", "tok-alice"

func start(t *testing.T, o Options) *Server {
	t.Helper()
	if o.TokenValidator == nil {
		o.TokenValidator = func(tok string) (string, bool) { return user, tok == token }
	}
	s, err := Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.AddUser(user, pass); err != nil {
		t.Fatal(err)
	}
	return s
}

func dial(t *testing.T, s *Server) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(s.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// saslFunc is a sasl.Client answering every challenge with resp.
type saslFunc struct {
	mech string
	ir   []byte
	resp []byte
	seen []byte
}

func (s *saslFunc) Start() (string, []byte, error) { return s.mech, s.ir, nil }
func (s *saslFunc) Next(ch []byte) ([]byte, error) { s.seen = ch; return s.resp, nil }

func authFailed(err error) bool {
	var ie *imap.Error
	return errors.As(err, &ie) && ie.Code == imap.ResponseCodeAuthenticationFailed
}

func TestMechanisms(t *testing.T) {
	s := start(t, Options{})
	for _, tc := range []struct {
		name   string
		client sasl.Client
		ok     bool
	}{
		{"PLAIN", sasl.NewPlainClient("", user, pass), true},
		{"PLAIN wrong", sasl.NewPlainClient("", user, "nope"), false},
		{"XOAUTH2", &saslFunc{mech: "XOAUTH2", ir: []byte("user=" + user + "\x01auth=Bearer " + token + "\x01\x01")}, true},
		{"XOAUTH2 bad token", &saslFunc{mech: "XOAUTH2", ir: []byte("user=" + user + "\x01auth=Bearer x\x01\x01"), resp: []byte{}}, false},
		{"XOAUTH2 other user", &saslFunc{mech: "XOAUTH2", ir: []byte("user=bob@example.com\x01auth=Bearer " + token + "\x01\x01"), resp: []byte{}}, false},
		{"OAUTHBEARER", sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: user, Token: token}), true},
		{"OAUTHBEARER bad token, kvsep answer", &saslFunc{mech: "OAUTHBEARER", ir: []byte("n,a=" + user + ",\x01auth=Bearer x\x01\x01"), resp: []byte{1}}, false},
		{"OAUTHBEARER bad token, empty answer", &saslFunc{mech: "OAUTHBEARER", ir: []byte("n,a=" + user + ",\x01auth=Bearer x\x01\x01"), resp: []byte{}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			err := c.Authenticate(tc.client)
			if tc.ok != (err == nil) {
				t.Fatalf("Authenticate: %v", err)
			}
			if !tc.ok && !authFailed(err) {
				t.Errorf("want NO [AUTHENTICATIONFAILED], got %v", err)
			}
			if f, ok := tc.client.(*saslFunc); ok && !tc.ok && len(f.seen) == 0 {
				t.Error("no error challenge was sent")
			}
			if tc.ok {
				if _, err := c.Select("INBOX", nil).Wait(); err != nil {
					t.Errorf("Select after sign-in: %v", err)
				}
			}
		})
	}
	if s.Logins("PLAIN") != 1 || s.Logins("XOAUTH2") != 1 || s.Logins("OAUTHBEARER") != 1 {
		t.Errorf("logins PLAIN %d XOAUTH2 %d OAUTHBEARER %d", s.Logins("PLAIN"), s.Logins("XOAUTH2"), s.Logins("OAUTHBEARER"))
	}
	c := dial(t, s)
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Errorf("LOGIN: %v", err)
	}
}

func TestOfferedMechanismsAndTLS(t *testing.T) {
	cert, err := NewCert(CertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s := start(t, Options{TLS: cert.Server, StartTLS: true, Mechanisms: []string{"XOAUTH2"}})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(cert.PEM)
	c, err := imapclient.DialStartTLS(s.Addr(), &imapclient.Options{TLSConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	caps := c.Caps()
	if !caps.Has("AUTH=XOAUTH2") || caps.Has("AUTH=PLAIN") {
		t.Errorf("caps %v: want AUTH=XOAUTH2 only", caps)
	}
	if err := c.Authenticate(sasl.NewPlainClient("", user, pass)); err == nil {
		t.Error("PLAIN was accepted though not offered")
	}
}

func TestFoldersAndMail(t *testing.T) {
	s := start(t, Options{})
	if err := s.CreateFolder(user, "Archiv/Ältere"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateFolder(user, "Archiv/Ältere"); err != nil {
		t.Errorf("creating an existing folder: %v", err)
	}
	uid1, err := s.Append(user, "INBOX", []byte("Subject: a\r\n\r\nx\r\n"))
	uid2, err2 := s.Append(user, "New", []byte("Subject: b\r\n\r\nx\r\n"), `\Seen`)
	if err != nil || err2 != nil || uid1 != 1 || uid2 != 1 {
		t.Fatalf("Append: %d %v, %d %v", uid1, err, uid2, err2)
	}
	if n, unseen, err := s.Count(user, "New"); n != 1 || unseen != 0 || err != nil {
		t.Errorf("Count(New) = %d, %d, %v", n, unseen, err)
	}
	if _, err := s.Append("nobody", "INBOX", []byte("x")); err == nil {
		t.Error("Append for an unknown user worked")
	}
	c := dial(t, s)
	c.Login(user, pass).Wait()
	list, err := c.List("", "*", nil).Collect()
	if err != nil || len(list) != 3 {
		t.Fatalf("LIST: %v %v", list, err)
	}
}

// MOVE of a set whose messages are all gone is OK (no COPYUID), as on Dovecot; a set with
// messages moves them.
func TestMoveOfGoneMessages(t *testing.T) {
	s := start(t, Options{})
	if err := s.CreateFolder(user, "Archive"); err != nil {
		t.Fatal(err)
	}
	uid, err := s.Append(user, "INBOX", []byte("Subject: a\r\n\r\nx\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, s)
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Move(imap.UIDSetNum(imap.UID(uid)+40), "Archive").Wait(); err != nil {
		t.Errorf("MOVE of a gone UID: %v", err)
	}
	data, err := c.Move(imap.UIDSetNum(imap.UID(uid)), "Archive").Wait()
	if err != nil || data == nil || data.DestUIDs == nil {
		t.Fatalf("MOVE of UID %d: %+v, %v", uid, data, err)
	}
	if n, _, _ := s.Count(user, "Archive"); n != 1 {
		t.Errorf("Archive holds %d messages, want 1", n)
	}
	if _, err := c.Move(imap.UIDSetNum(imap.UID(uid)), "Archive").Wait(); err != nil {
		t.Errorf("MOVE of the moved UID again: %v", err)
	}
}
