package auth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// remoteBrowser signs in at authURL as a browser on another machine would: it follows
// the provider's pages but never reaches the redirect URI, and returns the address it
// ended on (the redirect URI with code and state), as the user would copy it.
func remoteBrowser(t *testing.T, authURL string) string {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("authorize answered %s without a redirect: %v", resp.Status, err)
	}
	return loc.String()
}

// pasteLogin runs Login with a pipe as the paste input; the returned function pastes a
// line, refused collects OnPasteRefused's errors, authURL receives the sign-in address.
type pasteRun struct {
	w       *io.PipeWriter
	authURL chan string
	done    chan struct{}
	res     *Result
	err     error

	mu      sync.Mutex
	refused []error
}

func startPasteLogin(t *testing.T, cfg Config) *pasteRun {
	t.Helper()
	r, w := io.Pipe()
	pr := &pasteRun{w: w, authURL: make(chan string, 1), done: make(chan struct{})}
	go func() {
		defer close(pr.done)
		pr.res, pr.err = Login(context.Background(), cfg, LoginOptions{
			Paste: r, Timeout: 30 * time.Second, Logger: quiet,
			OnURL: func(u string) { pr.authURL <- u },
			OnPasteRefused: func(err error) {
				pr.mu.Lock()
				pr.refused = append(pr.refused, err)
				pr.mu.Unlock()
			},
		})
		r.Close()
	}()
	t.Cleanup(func() { w.Close() })
	return pr
}

func (pr *pasteRun) paste(t *testing.T, line string) {
	t.Helper()
	if _, err := io.WriteString(pr.w, line+"\n"); err != nil {
		t.Fatalf("paste: %v", err)
	}
}

func (pr *pasteRun) refusedCount() int {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return len(pr.refused)
}

// waitRefused waits until n pasted lines were refused.
func (pr *pasteRun) waitRefused(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for pr.refusedCount() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d pasted lines refused, want %d", pr.refusedCount(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Paste-back: the browser is elsewhere, the address it ended on is pasted; a wrong state,
// a foreign address and junk are refused with the reason and the wait goes on; the right
// one is exchanged with the flow's PKCE verifier (the fake provider checks it).
func TestLoginPasteBack(t *testing.T) {
	p := newFakeProvider(t)
	redirect := "http://127.0.0.1:" + strconv.Itoa(freePort(t)) + "/callback"
	pr := startPasteLogin(t, p.config(redirect))
	authURL := <-pr.authURL
	back := remoteBrowser(t, authURL)
	if !strings.HasPrefix(back, redirect+"?") {
		t.Fatalf("the browser ended on %q, want the redirect URI", back)
	}
	u, _ := url.Parse(back)
	forged := *u
	q := forged.Query()
	q.Set("state", "forged-state-from-an-attacker-000000000000")
	forged.RawQuery = q.Encode()
	wrongPath := *u
	wrongPath.Path = "/elsewhere"
	for _, line := range []string{"", "   ", forged.String(), wrongPath.String(), "hello", "ftp://x/?code=1&state=2", "?state=" + q.Get("state")} {
		pr.paste(t, line)
	}
	pr.waitRefused(t, 5) // the two blank lines are ignored
	for _, err := range pr.refused {
		var pe *PasteError
		if !errors.As(err, &pe) {
			t.Errorf("refusal %v is not a *PasteError", err)
		}
		if strings.Contains(err.Error(), u.Query().Get("code")) {
			t.Errorf("a refusal shows the code: %v", err)
		}
	}
	if !strings.Contains(pr.refused[0].Error(), "does not belong to this sign-in") {
		t.Errorf("forged state: %v", pr.refused[0])
	}
	if ex, _, _ := p.counts(); ex != 0 {
		t.Fatalf("%d code exchanges before the right address was pasted", ex)
	}
	pr.paste(t, "  "+back+"  ")
	select {
	case <-pr.done:
	case <-time.After(20 * time.Second):
		t.Fatal("Login did not end after the right address was pasted")
	}
	if pr.err != nil {
		t.Fatalf("Login: %v", pr.err)
	}
	if pr.res.Token.AccessToken == "" || pr.res.Token.RefreshToken == "" {
		t.Fatalf("token = %+v", pr.res.Token)
	}
	if ex, _, _ := p.counts(); ex != 1 {
		t.Fatalf("%d code exchanges, want 1", ex)
	}
	// The listener is closed: the same address delivered now reaches nothing.
	if resp, err := http.Get(back); err == nil {
		resp.Body.Close()
		t.Errorf("the listener still answers after the sign-in: %s", resp.Status)
	}
}

// The bare query (with or without "?") pastes as well as the whole address.
func TestLoginPasteBackQueryOnly(t *testing.T) {
	for _, form := range []string{"query", "?query"} {
		p := newFakeProvider(t)
		pr := startPasteLogin(t, p.config("http://localhost:"+strconv.Itoa(freePort(t))+"/"))
		u, _ := url.Parse(remoteBrowser(t, <-pr.authURL))
		line := u.RawQuery
		if form == "?query" {
			line = "?" + line
		}
		pr.paste(t, line)
		<-pr.done
		if pr.err != nil || pr.res.Token.AccessToken == "" {
			t.Fatalf("%s: %v", form, pr.err)
		}
	}
}

// A provider's error pasted back ends the sign-in with that error, as the listener would.
func TestLoginPasteBackProviderError(t *testing.T) {
	p := newFakeProvider(t)
	p.authError = url.Values{"error": {"access_denied"}, "error_description": {"AADSTS65004: User declined to consent"}}
	pr := startPasteLogin(t, p.config("http://127.0.0.1:"+strconv.Itoa(freePort(t))+"/"))
	pr.paste(t, remoteBrowser(t, <-pr.authURL))
	<-pr.done
	var pe *ProviderError
	if !errors.As(pr.err, &pe) || pe.Code != "access_denied" {
		t.Fatalf("Login: %v, want the provider's access_denied", pr.err)
	}
}

// Whichever answer comes first wins, once: after the listener's, a paste of the same
// address is refused; after a paste, the listener answers 409. The code is exchanged once.
func TestPasteAndListenerAnswerOnce(t *testing.T) {
	for _, first := range []string{"listener", "paste"} {
		t.Run(first, func(t *testing.T) {
			var mu sync.Mutex
			exchanges := 0
			exchange := func(ctx context.Context, code string) (*oauth2.Token, error) {
				mu.Lock()
				exchanges++
				mu.Unlock()
				return &oauth2.Token{AccessToken: "at"}, nil
			}
			h := newCallbackHandler(context.Background(), "/cb", "the-state", exchange, quiet)
			addr := "http://localhost:3017/cb?code=c0de&state=the-state"
			deliver := func() int {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, addr, nil))
				return rec.Code
			}
			if first == "listener" {
				if c := deliver(); c != http.StatusOK {
					t.Fatalf("listener: %d", c)
				}
				if taken, err := h.paste(addr); taken || err == nil || !strings.Contains(err.Error(), "already handled") {
					t.Fatalf("paste after the listener: taken %v, %v", taken, err)
				}
			} else {
				if taken, err := h.paste(addr); !taken || err != nil {
					t.Fatalf("paste: taken %v, %v", taken, err)
				}
				if c := deliver(); c != http.StatusConflict {
					t.Fatalf("listener after the paste: %d, want 409", c)
				}
				if taken, err := h.paste(addr); taken || err == nil {
					t.Fatalf("second paste: taken %v, %v", taken, err)
				}
			}
			if cr := <-h.done; cr.err != nil || cr.tok.AccessToken != "at" {
				t.Fatalf("result %+v", cr)
			}
			if exchanges != 1 {
				t.Fatalf("%d exchanges, want 1", exchanges)
			}
		})
	}
}
