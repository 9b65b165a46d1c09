package cli

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"mailmover/internal/testenv"
	"mailmover/store"
)

// syncBuffer is an io.Writer safe for a command writing while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// realProfile writes a profile that reads the test Dovecot with XOAUTH2 and gets tokens
// from the test provider with the given flow and client.
func realProfile(t *testing.T, home, name, flow, clientID string) {
	t.Helper()
	d, o := testenv.Dovecot(t), testenv.OIDC(t)
	p := store.DefaultProfile(name)
	p.Setup.Host, p.Setup.Port, p.Setup.Username, p.Setup.Folder = d.Host, d.IMAPSPort, d.User, "INBOX"
	p.Security = store.Security{TLS: store.TLSImplicit, Auth: store.AuthXOAuth2, VerifyCertificate: true, CAFile: d.CAFile}
	p.OAuth2 = store.OAuth2{Preset: store.PresetCustom, Flow: flow, ClientID: clientID,
		AuthorizationURL: o.AuthURL(), TokenURL: o.TokenURL(), DeviceURL: o.DeviceAuthURL(),
		Scope: strings.Join(testenv.Scopes, " "), RedirectURI: "http://127.0.0.1:3017/", RedirectPort: 3017}
	p.Destination.Folder = t.TempDir()
	if err := store.SaveProfile(home, p); err != nil {
		t.Fatal(err)
	}
}

// TestRealLoginDeviceThenCheck is issue 8's device-code test: `mailmover login -device`
// against the test provider (the code approved as the test user), then `mailmover check`
// signing in to Dovecot with XOAUTH2 using the stored token.
func TestRealLoginDeviceThenCheck(t *testing.T) {
	o := testenv.OIDC(t)
	env, _, errb, sec, home := secretTestEnv(t, "")
	realProfile(t, home, "dev", store.FlowDevice, o.DeviceClientID)
	out := &syncBuffer{}
	env.Stdout = out
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- Run(ctx, []string{"login", "-device", "-profile", "dev"}, env) }()

	codeRE := regexp.MustCompile(`open\n  (\S+)\nand enter the code\n  (\S+)\n`)
	var m []string
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for m == nil {
		select {
		case code := <-done:
			t.Fatalf("login ended (exit %d) before showing a code:\n%s\n%s", code, out, errb)
		case <-ctx.Done():
			t.Fatalf("no device code shown:\n%s", out)
		case <-tick.C:
			m = codeRE.FindStringSubmatch(out.String())
		}
	}
	if err := o.ApproveDevice(ctx, m[1], m[2]); err != nil {
		t.Fatalf("approving the device code: %v", err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("login -device exit %d:\n%s\n%s", code, out, errb)
		}
	case <-ctx.Done():
		t.Fatal("login -device did not finish after approval")
	}
	if rt, err := sec.Get("dev", store.SecretRefreshToken); err != nil || rt == "" {
		t.Fatalf("no refresh token stored: %v", err)
	}
	if !strings.Contains(out.String(), "Refresh token: held") {
		t.Fatalf("output:\n%s", out)
	}

	var cout, cerr bytes.Buffer
	env.Stdout, env.Stderr = &cout, &cerr
	if code := Run(ctx, []string{"check", "-profile", "dev"}, env); code != 0 {
		t.Fatalf("check after device login: exit %d\n%s\n%s", code, cout.String(), cerr.String())
	}
}

// TestRealClientCredentialsCheck is issue 8's client-credentials test: a profile with
// flow = "client_credentials" gets an app-only token with the secret from the keyring,
// and `mailmover check` signs in to Dovecot with it.
func TestRealClientCredentialsCheck(t *testing.T) {
	o := testenv.OIDC(t)
	if o.ServiceClientID == "" {
		t.Skip("the test environment names no service client")
	}
	env, out, errb, sec, home := secretTestEnv(t, "")
	realProfile(t, home, "app", store.FlowClientCredentials, o.ServiceClientID)
	if err := sec.Set("app", store.SecretClientSecret, o.ServiceClientSecret); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if code := Run(ctx, []string{"login", "-profile", "app"}, env); code != 0 {
		t.Fatalf("login (client credentials) exit %d\n%s\n%s", code, out, errb)
	}
	out.Reset()
	if code := Run(ctx, []string{"check", "-profile", "app"}, env); code != 0 {
		t.Fatalf("check with client credentials: exit %d\n%s\n%s", code, out, errb)
	}
}
