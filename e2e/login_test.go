package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/zalando/go-keyring"
	"golang.org/x/oauth2"

	"mailmover/auth"
	"mailmover/internal/testenv"
	"mailmover/store"
)

// xoauth2 is a minimal XOAUTH2 client for checking a token against Dovecot.
type xoauth2 struct{ user, token string }

func (x xoauth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + x.user + "\x01auth=Bearer " + x.token + "\x01\x01"), nil
}

func (x xoauth2) Next([]byte) ([]byte, error) { return []byte{1}, nil }

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestLoginBrowserKeyringRefresh is issue 2's end-to-end test: `mailmover login` against
// the test OpenID provider, headless Chromium typing the user and password into its login
// page, the tokens landing in the real Secret Service, a refresh-token grant that
// rotates and saves the new token, and no token anywhere but in the keyring.
func TestLoginBrowserKeyringRefresh(t *testing.T) {
	o, d := testenv.OIDC(t), testenv.Dovecot(t)
	testenv.Keyring(t)
	requireCommand(t, "login")
	root := repoRoot(t)

	home := t.TempDir()
	name := "e2e-login-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	port := freePort(t)
	p := store.DefaultProfile(name)
	p.Setup.Host, p.Setup.Port, p.Setup.Username = d.Host, d.IMAPSPort, d.User
	p.Security.CAFile = d.CAFile
	p.OAuth2 = store.OAuth2{
		Preset: "custom", Flow: "authcode",
		AuthorizationURL: o.AuthURL(), TokenURL: o.TokenURL(), DeviceURL: o.DeviceAuthURL(),
		ClientID:    o.NativeClientID,
		Scope:       strings.Join(testenv.Scopes, " "),
		RedirectURI: "http://127.0.0.1:" + strconv.Itoa(port) + "/", RedirectPort: port,
	}
	p.Destination.Folder = filepath.Join(home, "out")
	if err := store.SaveProfile(home, p); err != nil {
		t.Fatalf("save profile: %v", err)
	}
	account := name + "/" + store.SecretRefreshToken
	t.Cleanup(func() {
		for _, k := range store.SecretKinds {
			_ = keyring.Delete("mailmover", name+"/"+k)
		}
	})

	browserOut := filepath.Join(t.TempDir(), "browser.json")
	env := []string{
		"MAILMOVER_HOME=" + home,
		"BROWSER=node " + filepath.Join(root, "testenv", "browser-login.mjs") + " %s",
		"MM_BROWSER_OUT=" + browserOut,
		"MM_OIDC_USER=" + o.User, "MM_OIDC_PASSWORD=" + o.Password,
	}
	out, code := run(t, 3*time.Minute, env, "login", "-profile", name)
	wait := 90 * time.Second
	if code != 0 {
		wait = 5 * time.Second
	}
	page := waitBrowser(t, browserOut, wait)
	if code != 0 {
		t.Fatalf("mailmover login exited %d; output:\n%s\nbrowser: %+v", code, out, page)
	}
	if !page.OK || !strings.Contains(strings.ToLower(page.Text), "close") {
		t.Errorf("the browser's last page does not say sign-in worked and it can be closed: %+v", page)
	}
	t.Logf("mailmover login exited 0; the browser's last page said: %q", page.Text)
	if !strings.Contains(out, o.AuthURL()) {
		t.Errorf("mailmover login did not print the authorization URL; output:\n%s", out)
	}

	// The refresh token is in the real keyring.
	rt1, err := keyring.Get("mailmover", account)
	if err != nil || rt1 == "" {
		t.Fatalf("keyring %s/%s after login: %v (output:\n%s)", "mailmover", account, err, out)
	}
	secrets := []string{rt1}
	if at, err := keyring.Get("mailmover", name+"/"+store.SecretAccessToken); err == nil && at != "" {
		secrets = append(secrets, at)
	}

	// A refresh-token grant through the product's token source rotates the refresh
	// token and saves the new one at once.
	cfg, err := auth.ConfigFromProfile(p.OAuth2, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ts := auth.NewTokenSource(cfg, auth.NewSecretsTokenStore(store.Keyring(), name))
	tok, err := ts.Token(ctx, true)
	if err != nil {
		t.Fatalf("forced refresh: %v", err)
	}
	secrets = append(secrets, tok.AccessToken, tok.RefreshToken)
	rt2, err := keyring.Get("mailmover", account)
	if err != nil {
		t.Fatal(err)
	}
	if rt2 == rt1 || rt2 != tok.RefreshToken {
		t.Fatalf("after refresh the keyring holds the old or a different refresh token (rotated %v, saved %v)",
			rt2 != rt1, rt2 == tok.RefreshToken)
	}
	t.Log("forced refresh: new refresh token saved in the keyring, old one replaced")
	// The provider really rotated: the old refresh token is dead.
	_, err = o.NativeConfig(p.OAuth2.RedirectURI).TokenSource(ctx, &oauth2.Token{RefreshToken: rt1}).Token()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Errorf("old refresh token after rotation: err = %v, want invalid_grant", err)
	}
	// The new access token opens the mailbox.
	c, err := imapclient.DialTLS(d.IMAPSAddr(), &imapclient.Options{TLSConfig: d.TLSConfig(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Authenticate(xoauth2{d.User, tok.AccessToken}); err != nil {
		t.Errorf("XOAUTH2 with the refreshed token: %v\n%s", err, d.LogTail(5))
	}

	// No token anywhere but in the keyring: not in MAILMOVER_HOME (profiles, state,
	// logs), not in the command's output, not on the browser's page.
	found := map[string]bool{}
	check := func(where, text string) {
		for i, s := range secrets {
			if len(s) >= 8 && strings.Contains(text, s) {
				found[where+" (token "+strconv.Itoa(i)+")"] = true
			}
		}
	}
	check("login output", out)
	check("browser page", page.Text)
	for _, log := range []string{d.LogFile, os.Getenv("MM_OIDC_LOG")} {
		if data, err := os.ReadFile(log); err == nil {
			check(log, string(data))
		}
	}
	files := 0
	err = filepath.WalkDir(home, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		check(path, string(data))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Error("MAILMOVER_HOME is empty: the profile file should be there")
	}
	t.Logf("no token in the login output, the browser page, the test servers' logs or %d file(s) under MAILMOVER_HOME", files)
	for where := range found {
		t.Errorf("a token was found in %s", where)
	}
}

type browserResult struct {
	OK    bool   `json:"ok"`
	Text  string `json:"text"`
	Error string `json:"error"`
}

// waitBrowser waits until browser-login.mjs has finished and returns what it saw.
func waitBrowser(t *testing.T, path string, wait time.Duration) browserResult {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if data, err := os.ReadFile(path); err == nil && len(data) > 0 {
			var r browserResult
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatalf("browser result: %v", err)
			}
			return r
		}
		select {
		case <-deadline.C:
			return browserResult{Error: "the browser did not finish within " + wait.String()}
		case <-tick.C:
		}
	}
}
