package imapsrc

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"mailmover/internal/memimap"
	"mailmover/internal/testenv"
)

// testLogger sends the package's log lines to the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// ctxT returns a context that ends with the test (and after a minute at most).
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// mail builds a small message with an optional PDF attachment.
func mail(from, subject, body, attName string, att []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: box@example.com\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%d.%s@test>\r\nMIME-Version: 1.0\r\n",
		from, subject, time.Now().Format(time.RFC1123Z), time.Now().UnixNano(), strings.ReplaceAll(subject, " ", "."))
	if attName == "" {
		fmt.Fprintf(&b, "Content-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", body)
		return []byte(b.String())
	}
	b.WriteString("Content-Type: multipart/mixed; boundary=\"BOUND\"\r\n\r\n")
	fmt.Fprintf(&b, "--BOUND\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n", body)
	fmt.Fprintf(&b, "--BOUND\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", attName)
	enc := base64.StdEncoding.EncodeToString(att)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--BOUND--\r\n")
	return []byte(b.String())
}

// backend is one server the shared suite runs against.
type backend struct {
	name string
	// config returns a Config for the auth method ("password", "xoauth2", "oauthbearer")
	// and TLS mode, selecting folder.
	config func(t *testing.T, auth, tlsMode, folder string) Config
	// newFolder makes an empty folder (unique on shared servers) and returns its name.
	newFolder func(t *testing.T, prefix string) string
	// appendMail stores messages (unseen) in folder.
	appendMail func(t *testing.T, folder string, msgs ...[]byte)
	// badToken returns a TokenFunc that gives a garbage token first and a good one when
	// forced to refresh (goodAfterRefresh) or garbage always.
	badToken func(t *testing.T, goodAfterRefresh bool) TokenFunc
}

const memUser, memPass, memToken = "alice@example.com", "alice-pass", "good-token-alice"

// memBackend runs memimap with implicit TLS and STARTTLS listeners and a token validator.
func memBackend(t *testing.T) backend {
	cert, err := memimap.NewCert(memimap.CertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, cert.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	tokens := map[string]string{memToken: memUser}
	validate := func(tok string) (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		u, ok := tokens[tok]
		return u, ok
	}
	start := func(startTLS bool) *memimap.Server {
		s, err := memimap.Start(memimap.Options{TLS: cert.Server, StartTLS: startTLS, TokenValidator: validate})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	implicit, starttls := start(false), start(true)
	// Both servers share nothing, so mail goes to both.
	servers := []*memimap.Server{implicit, starttls}
	for _, s := range servers {
		if err := s.AddUser(memUser, memPass); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	return backend{
		name: "memimap",
		config: func(t *testing.T, auth, tlsMode, folder string) Config {
			s := implicit
			if tlsMode == tlsStartTLS {
				s = starttls
			}
			return Config{Host: "localhost", Port: s.Port(), TLS: tlsMode, Auth: auth, Username: memUser,
				Password: memPass, Token: func(context.Context, bool) (string, error) { return memToken, nil },
				VerifyCertificate: true, CAFile: caFile, Folder: folder, Timeout: 10 * time.Second, Logger: testLogger(t)}
		},
		newFolder: func(t *testing.T, prefix string) string {
			n++
			name := fmt.Sprintf("%s-%d", prefix, n)
			for _, s := range servers {
				if err := s.CreateFolder(memUser, name); err != nil {
					t.Fatal(err)
				}
			}
			return name
		},
		appendMail: func(t *testing.T, folder string, msgs ...[]byte) {
			for _, s := range servers {
				for _, m := range msgs {
					if _, err := s.Append(memUser, folder, m); err != nil {
						t.Fatal(err)
					}
				}
			}
		},
		badToken: func(t *testing.T, good bool) TokenFunc {
			return func(_ context.Context, force bool) (string, error) {
				if force && good {
					return memToken, nil
				}
				return "garbage-token", nil
			}
		},
	}
}

// dovecotBackend is the real Dovecot of `make test` (skips without it).
func dovecotBackend(t *testing.T) backend {
	d := testenv.Dovecot(t)
	tokenFn := oidcTokenFunc(t)
	return backend{
		name: "dovecot",
		config: func(t *testing.T, auth, tlsMode, folder string) Config {
			port := d.IMAPSPort
			if tlsMode != tlsImplicit {
				port = d.IMAPPort
			}
			return Config{Host: d.Host, Port: port, TLS: tlsMode, Auth: auth, Username: d.User, Password: d.Password,
				Token: tokenFn, VerifyCertificate: true, CAFile: d.CAFile, Folder: folder,
				Timeout: 20 * time.Second, Logger: testLogger(t)}
		},
		newFolder:  func(t *testing.T, prefix string) string { return d.NewMailbox(t, prefix) },
		appendMail: func(t *testing.T, folder string, msgs ...[]byte) { d.Append(t, folder, msgs...) },
		badToken: func(t *testing.T, good bool) TokenFunc {
			return func(ctx context.Context, force bool) (string, error) {
				if force && good {
					return tokenFn(ctx, true)
				}
				return "garbage-token-not-known-to-the-provider", nil
			}
		},
	}
}

// oidcTokenFunc returns a TokenFunc over a real token of the test provider; forced
// refreshes use the refresh token (which rotates).
func oidcTokenFunc(t *testing.T) TokenFunc {
	o := testenv.OIDC(t)
	tok := testenv.OIDCToken(t)
	conf := o.NativeConfig("http://127.0.0.1:49151/callback")
	var mu sync.Mutex
	return func(ctx context.Context, force bool) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if force || !tok.Valid() {
			old := *tok
			old.AccessToken = ""
			nt, err := conf.TokenSource(ctx, &old).Token()
			if err != nil {
				return "", err
			}
			tok = nt
		}
		return tok.AccessToken, nil
	}
}

var _ = oauth2.Token{}

// readAll reads r or fails the test.
func readAll(t testing.TB, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
