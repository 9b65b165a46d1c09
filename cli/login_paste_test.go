package cli

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"mailmover/internal/testenv"
	"mailmover/store"
)

// pasteLogin runs `mailmover login -no-browser` with a pipe as standard input and waits
// for the sign-in address; paste writes a line to it; wait returns the exit code.
type pasteLogin struct {
	in      *io.PipeWriter
	out     *syncBuffer
	errb    *syncBuffer
	authURL string
	done    chan int
}

var signInAddress = regexp.MustCompile(`and sign in:\n  (\S+)\n`)

func startPasteLogin(t *testing.T, ctx context.Context, env Env, profile string) *pasteLogin {
	t.Helper()
	r, w := io.Pipe()
	t.Cleanup(func() { w.Close() })
	pl := &pasteLogin{in: w, out: &syncBuffer{}, errb: &syncBuffer{}, done: make(chan int, 1)}
	env.Stdin, env.Stdout, env.Stderr = r, pl.out, pl.errb
	loginBrowserUsed := false
	old := loginBrowser
	loginBrowser = func(func(string) string) func(string) error {
		loginBrowserUsed = true
		return func(string) error { return nil }
	}
	t.Cleanup(func() {
		loginBrowser = old
		if loginBrowserUsed {
			t.Error("-no-browser opened a browser")
		}
	})
	go func() {
		pl.done <- Run(ctx, []string{"login", "-no-browser", "-timeout", "60s", "-profile", profile}, env)
	}()
	deadline := time.After(30 * time.Second)
	for {
		if m := signInAddress.FindStringSubmatch(pl.out.String()); m != nil {
			pl.authURL = m[1]
			return pl
		}
		select {
		case c := <-pl.done:
			t.Fatalf("login ended (exit %d) before printing the address:\n%s\n%s", c, pl.out, pl.errb)
		case <-deadline:
			t.Fatalf("no sign-in address printed:\n%s", pl.out)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (pl *pasteLogin) paste(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(pl.in, line+"\n"); err != nil {
		t.Fatalf("paste: %v", err)
	}
}

func (pl *pasteLogin) wait(t *testing.T) int {
	t.Helper()
	select {
	case c := <-pl.done:
		return c
	case <-time.After(60 * time.Second):
		t.Fatalf("login did not end:\n%s\n%s", pl.out, pl.errb)
	}
	return -1
}

// waitStderr waits until stderr holds want.
func (pl *pasteLogin) waitStderr(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(pl.errb.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("stderr lacks %q:\n%s", want, pl.errb)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// forge returns addr with another state.
func forge(t *testing.T, addr string) string {
	t.Helper()
	u, err := url.Parse(addr)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("state", "not-the-state-of-this-sign-in")
	u.RawQuery = q.Encode()
	return u.String()
}

// `mailmover login -no-browser`: the address the browser ended on, pasted on standard
// input, signs in (a forged state is refused first and the wait goes on).
func TestLoginPasteBackCommand(t *testing.T) {
	idp := loginProvider(t, true)
	env, _, _, sec, home := secretTestEnv(t, "")
	loginTestProfile(t, home, "p", idp.URL)
	pl := startPasteLogin(t, context.Background(), env, "p")
	for _, want := range []string{"does not load", "paste it here", "Waiting for it here and at http://127.0.0.1:"} {
		if !strings.Contains(pl.out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, pl.out)
		}
	}
	// The browser on another machine: the provider's redirect is captured, not followed.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(pl.authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	back := resp.Header.Get("Location")
	pl.paste(t, forge(t, back))
	pl.waitStderr(t, "not taken: the pasted address does not belong to this sign-in")
	pl.paste(t, back)
	if code := pl.wait(t); code != 0 {
		t.Fatalf("exit %d:\n%s\n%s", code, pl.out, pl.errb)
	}
	if rt, _ := sec.Get("p", store.SecretRefreshToken); rt != "RT-very-secret" {
		t.Fatalf("refresh token in keyring = %q", rt)
	}
	if strings.Contains(pl.out.String()+pl.errb.String(), "RT-very-secret") {
		t.Fatal("a token was printed")
	}
}

// Paste-back against the real test provider: its login form is filled as a browser on
// another machine would (the final redirect captured, never delivered), the address is
// pasted into `mailmover login -no-browser`, and `mailmover check` then signs in to
// Dovecot with the token.
func TestRealLoginPasteBackThenCheck(t *testing.T) {
	o := testenv.OIDC(t)
	env, _, _, sec, home := secretTestEnv(t, "")
	realProfile(t, home, "paste", store.FlowAuthCode, o.NativeClientID)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pl := startPasteLogin(t, ctx, env, "paste")
	back, err := o.SignIn(ctx, pl.authURL)
	if err != nil {
		t.Fatalf("signing in at the provider: %v", err)
	}
	pl.paste(t, forge(t, back.String()))
	pl.waitStderr(t, "does not belong to this sign-in")
	pl.paste(t, back.String())
	if code := pl.wait(t); code != 0 {
		t.Fatalf("login -no-browser: exit %d\n%s\n%s", code, pl.out, pl.errb)
	}
	if rt, err := sec.Get("paste", store.SecretRefreshToken); err != nil || rt == "" {
		t.Fatalf("no refresh token stored: %v", err)
	}
	// A replay of the same address to a new sign-in is refused (its state is the old one).
	ctx2, cancel2 := context.WithCancel(ctx)
	pl2 := startPasteLogin(t, ctx2, env, "paste")
	pl2.paste(t, back.String())
	pl2.waitStderr(t, "does not belong to this sign-in")
	cancel2()
	if code := pl2.wait(t); code == 0 {
		t.Fatal("a replayed address signed in")
	}

	var cout, cerr syncBuffer
	env.Stdout, env.Stderr = &cout, &cerr
	if code := Run(context.Background(), []string{"check", "-profile", "paste"}, env); code != 0 {
		t.Fatalf("check after paste-back login: exit %d\n%s\n%s", code, cout.String(), cerr.String())
	}
}
