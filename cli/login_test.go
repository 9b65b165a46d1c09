package cli

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"mailmover/store"
)

// loginProvider is a minimal OAuth2 provider: authorize redirects with a code, the token
// endpoint checks PKCE and answers with fixed tokens; the device endpoint approves at
// once.
func loginProvider(t *testing.T, refresh bool) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	challenges := map[string]string{}
	token := func(w http.ResponseWriter) {
		body := map[string]any{"access_token": "AT-" + strings.Repeat("x", 40), "token_type": "Bearer", "expires_in": 3600}
		if refresh {
			body["refresh_token"] = "RT-very-secret"
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		mu.Lock()
		challenges["code1"] = q.Get("code_challenge")
		mu.Unlock()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code=code1&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		switch r.PostForm.Get("grant_type") {
		case "authorization_code":
			sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
			mu.Lock()
			ok := challenges[r.PostForm.Get("code")] == base64.RawURLEncoding.EncodeToString(sum[:])
			mu.Unlock()
			if !ok {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(400)
				_, _ = io.WriteString(w, `{"error":"invalid_grant","error_description":"PKCE failed"}`)
				return
			}
			token(w)
		case "urn:ietf:params:oauth:grant-type:device_code", "client_credentials":
			token(w)
		}
	})
	mux.HandleFunc("/device", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"device_code":"d","user_code":"ABCD-EFGH","verification_uri":"https://idp.example/activate","expires_in":60,"interval":1}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func loginTestProfile(t *testing.T, home, name, idp string) {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	p := store.DefaultProfile(name)
	p.Setup.Host = "imap.example.com"
	p.Setup.Username = "u@example.com"
	p.Destination.Folder = "/srv/in"
	p.OAuth2 = store.OAuth2{Preset: "custom", Flow: "authcode", ClientID: "client",
		AuthorizationURL: idp + "/authorize", TokenURL: idp + "/token", DeviceURL: idp + "/device",
		Scope: "imap offline_access", RedirectURI: "http://127.0.0.1:" + strconv.Itoa(port) + "/", RedirectPort: port}
	if err := store.SaveProfile(home, p); err != nil {
		t.Fatal(err)
	}
}

// fakeLoginBrowser replaces the opener with an HTTP client following the redirects.
func fakeLoginBrowser(t *testing.T) {
	t.Helper()
	old := loginBrowser
	loginBrowser = func(func(string) string) func(string) error {
		return func(u string) error {
			go func() {
				if resp, err := http.Get(u); err == nil {
					resp.Body.Close()
				}
			}()
			return nil
		}
	}
	t.Cleanup(func() { loginBrowser = old })
}

func TestLoginAuthCode(t *testing.T) {
	idp := loginProvider(t, true)
	env, out, errb, sec, home := secretTestEnv(t, "")
	loginTestProfile(t, home, "p", idp.URL)
	fakeLoginBrowser(t)
	code := Run(context.Background(), []string{"login", "-profile", "p"}, env)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
	if rt, _ := sec.Get("p", store.SecretRefreshToken); rt != "RT-very-secret" {
		t.Fatalf("refresh token in keyring = %q", rt)
	}
	for _, want := range []string{idp.URL + "/authorize?", "Refresh token: held", "Access token: ••••••••", "expires"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, out.String())
		}
	}
	all := out.String() + errb.String()
	if strings.Contains(all, "RT-very-secret") || strings.Contains(all, "AT-xxx") {
		t.Fatalf("a token was printed:\n%s", all)
	}
}

func TestLoginNoRefreshTokenWarns(t *testing.T) {
	idp := loginProvider(t, false)
	env, out, errb, _, home := secretTestEnv(t, "")
	loginTestProfile(t, home, "p", idp.URL)
	fakeLoginBrowser(t)
	if code := Run(context.Background(), []string{"login", "-profile", "p"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(errb.String(), "offline_access") || !strings.Contains(out.String(), "Refresh token: none") {
		t.Fatalf("stdout %q stderr %q", out.String(), errb.String())
	}
}

func TestLoginDevice(t *testing.T) {
	idp := loginProvider(t, true)
	env, out, errb, sec, home := secretTestEnv(t, "")
	loginTestProfile(t, home, "p", idp.URL)
	if code := Run(context.Background(), []string{"login", "-profile", "p", "-device"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "https://idp.example/activate") || !strings.Contains(out.String(), "ABCD-EFGH") {
		t.Fatalf("stdout %q", out.String())
	}
	if rt, _ := sec.Get("p", store.SecretRefreshToken); rt != "RT-very-secret" {
		t.Fatalf("refresh token in keyring = %q", rt)
	}
}

func TestLoginUsageAndFailures(t *testing.T) {
	idp := loginProvider(t, true)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"login"}, 2, "give -profile"},
		{[]string{"login", "-profile", "p", "extra"}, 2, "give -profile"},
		{[]string{"login", "-bogus"}, 2, "flag provided but not defined"},
		{[]string{"login", "-profile", "../x"}, 2, ""},
		{[]string{"login", "-profile", "p", "-timeout", "0s"}, 2, "-timeout"},
		{[]string{"login", "-profile", "missing"}, 1, "not found"},
	}
	for _, tc := range tests {
		env, _, errb, _, home := secretTestEnv(t, "")
		loginTestProfile(t, home, "p", idp.URL)
		if code := Run(context.Background(), tc.args, env); code != tc.code || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", tc.args, code, tc.code, errb.String(), tc.want)
		}
	}
}

func TestLoginBadRedirectAndKeyringDown(t *testing.T) {
	idp := loginProvider(t, true)
	env, _, errb, _, home := secretTestEnv(t, "")
	loginTestProfile(t, home, "p", idp.URL)
	p, err := store.LoadProfile(home, "p")
	if err != nil {
		t.Fatal(err)
	}
	p.OAuth2.RedirectURI = "https://localhost:3017/"
	p.OAuth2.RedirectPort = 3017
	data, err := store.EncodeProfile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(store.ProfilePath(home, "p"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if code := Run(context.Background(), []string{"login", "-profile", "p"}, env); code != 1 || !strings.Contains(errb.String(), "redirect_uri") {
		t.Errorf("https redirect: exit %d, stderr %q", code, errb.String())
	}
	env, _, errb, sec, home := secretTestEnv(t, "")
	loginTestProfile(t, home, "p", idp.URL)
	sec.SetUnavailable(true)
	if code := Run(context.Background(), []string{"login", "-profile", "p"}, env); code != 1 || !strings.Contains(errb.String(), "keyring") {
		t.Errorf("keyring down: exit %d, stderr %q", code, errb.String())
	}
}

func TestLoginClientCredentials(t *testing.T) {
	idp := loginProvider(t, false)
	env, out, errb, sec, home := secretTestEnv(t, "")
	loginTestProfile(t, home, "p", idp.URL)
	p, _ := store.LoadProfile(home, "p")
	p.OAuth2.Flow = store.FlowClientCredentials
	if err := store.SaveProfile(home, p); err != nil {
		t.Fatal(err)
	}
	if code := Run(context.Background(), []string{"login", "-profile", "p"}, env); code != 1 || !strings.Contains(errb.String(), "client secret") ||
		!strings.Contains(errb.String(), "secret set -profile p client-secret") {
		t.Fatalf("without secret: exit %d, stderr %q", code, errb.String())
	}
	if err := sec.Set("p", store.SecretClientSecret, "s3cret"); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	if code := Run(context.Background(), []string{"login", "-profile", "p"}, env); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "app-only") || !strings.Contains(out.String(), "client ID and secret") || strings.Contains(out.String(), "AT-xxx") {
		t.Fatalf("stdout %q", out.String())
	}
}
