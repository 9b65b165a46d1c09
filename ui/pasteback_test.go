package ui

import (
	"bufio"
	"context"
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"mailmover/store"
)

// Browser on another machine: while a sign-in runs, the address the browser ended on can
// be pasted into the OAuth2 tab; it reaches the sign-in (paste-back), which takes it.
func TestPasteBackInTheWindow(t *testing.T) {
	h := newHarness(t)
	h.newProfile("p")
	v := h.v
	got := make(chan string, 1)
	h.be.mu.Lock()
	h.be.login = func(ctx context.Context, p *store.Profile, sec Secrets, opts LoginOptions) (*LoginResult, error) {
		opts.OnURL("https://login.example.com/authorize?client_id=x")
		if opts.Paste == nil {
			return nil, errors.New("no paste-back reader")
		}
		line, err := bufio.NewReader(opts.Paste).ReadString('\n')
		if err != nil {
			return nil, err
		}
		got <- strings.TrimSpace(line)
		return &LoginResult{RefreshToken: true}, nil
	}
	h.be.mu.Unlock()
	test.Tap(v.oauth.get)
	h.waitFor("the sign-in page", func() bool { return v.oauth.urlBox.Visible() })
	test.Type(v.oauth.pasteEntry, "http://localhost:3017/?code=abc&state=xyz")
	test.Tap(v.oauth.pasteUse)
	h.waitFor("sign-in done", func() bool { return v.act.loginCancel == nil })
	select {
	case line := <-got:
		if line != "http://localhost:3017/?code=abc&state=xyz" {
			t.Errorf("the sign-in got %q", line)
		}
	default:
		t.Fatal("the pasted address did not reach the sign-in")
	}
	if v.oauth.paste != nil || v.oauth.pasteEntry.Text != "" {
		t.Error("the paste-back pipe or text outlived the sign-in")
	}
}
