package auth

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// hostileProvider answers /authorize with a code for the redirect URI and /token with
// the given handler.
func hostileProvider(t *testing.T, token http.HandlerFunc) Config {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		http.Redirect(w, r, q.Get("redirect_uri")+"?code=c0de&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
	})
	mux.HandleFunc("/token", token)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return Config{Preset: "custom", Flow: "authcode", ClientID: "cid", AuthURL: srv.URL + "/authorize",
		TokenURL: srv.URL + "/token", Scopes: []string{"imap"}, RedirectURI: "http://127.0.0.1:0/",
		AuthStyle: oauth2.AuthStyleInParams}
}

// A token endpoint that answers, but not with a token response, is not reported as
// unreachable: the admin is sent to token_url, not to the network.
func TestLoginUnusableTokenAnswers(t *testing.T) {
	cases := []struct {
		name  string
		h     http.HandlerFunc
		texts []string // in the error text
		adv   string   // in the advice
	}{
		{"html page", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html>login page</html>"))
		}, []string{"not a usable token response", "token_url"}, ""},
		{"broken json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"access_token": "SECRET-AT", "token_type": `))
		}, []string{"not a usable token response"}, ""},
		{"no access token", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"refresh_token": "SECRET-RT", "token_type": "Bearer"}`))
		}, []string{"not a usable token response"}, ""},
		{"http 500", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte("<html>SECRET-BODY</html>"))
		}, []string{"HTTP 500"}, "try again later"},
		{"http 404", func(w http.ResponseWriter, r *http.Request) {
			http.NotFound(w, r)
		}, []string{"HTTP 404"}, "token_url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := hostileProvider(t, tc.h)
			open, pages := fakeBrowser(t, nil)
			_, err := Login(context.Background(), cfg, LoginOptions{OpenBrowser: open, Logger: quiet, Timeout: 20 * time.Second})
			if err == nil {
				t.Fatal("sign-in succeeded")
			}
			text, advice := DescribeError(err)
			for _, want := range tc.texts {
				if !strings.Contains(text, want) {
					t.Errorf("text %q lacks %q", text, want)
				}
			}
			if strings.Contains(text, "cannot reach") || strings.Contains(text, "SECRET") {
				t.Errorf("text %q", text)
			}
			if !strings.Contains(advice, tc.adv) {
				t.Errorf("advice %q lacks %q", advice, tc.adv)
			}
			if page := waitPage(t, pages); !strings.Contains(page.body, "did not work") || strings.Contains(page.body, "SECRET") {
				t.Errorf("page = %q", page.body)
			}
		})
	}
}

// A token endpoint that cannot be reached is reported as such.
func TestLoginTokenEndpointUnreachable(t *testing.T) {
	cfg := hostileProvider(t, http.NotFound)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.TokenURL = "http://" + l.Addr().String() + "/token"
	l.Close()
	open, pages := fakeBrowser(t, nil)
	_, err = Login(context.Background(), cfg, LoginOptions{OpenBrowser: open, Logger: quiet, Timeout: 20 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "cannot reach the provider") {
		t.Fatalf("err = %v", err)
	}
	waitPage(t, pages)
}

// When the browser's answer arrived but the token endpoint hangs past the sign-in's
// time limit, the error says so (not "no answer reached the listener"), promptly.
func TestLoginSlowTokenEndpoint(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	cfg := hostileProvider(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	open, pages := fakeBrowser(t, nil)
	start := time.Now()
	_, err := Login(context.Background(), cfg, LoginOptions{OpenBrowser: open, Logger: quiet, Timeout: 2 * time.Second})
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("Login took %v", el)
	}
	if !errors.Is(err, ErrLoginTimeout) || !strings.Contains(err.Error(), "token endpoint") {
		t.Fatalf("err = %v, want a timeout naming the token endpoint", err)
	}
	if _, advice := DescribeError(err); !strings.Contains(advice, "token_url") {
		t.Errorf("advice = %q", advice)
	}
	if page := waitPage(t, pages); !strings.Contains(page.body, "did not work") {
		t.Errorf("page = %q", page.body)
	}
}

// Provider error text full of markup is shown escaped on the browser's page.
func TestLoginProviderErrorMarkupEscaped(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		v := url.Values{"state": {q.Get("state")}, "error": {`<img src=x onerror=alert(1)>`},
			"error_description": {`AADSTS65001: <script>alert("x")</script> & "q" ` + "\x1b[31m\r\nforged line"}}
		http.Redirect(w, r, q.Get("redirect_uri")+"?"+v.Encode(), http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cfg := Config{Preset: "custom", Flow: "authcode", ClientID: "cid", AuthURL: srv.URL + "/authorize",
		TokenURL: srv.URL + "/token", RedirectURI: "http://127.0.0.1:0/cb"}
	open, pages := fakeBrowser(t, nil)
	_, err := Login(context.Background(), cfg, LoginOptions{OpenBrowser: open, Logger: quiet, Timeout: 20 * time.Second})
	var pe *ProviderError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v", err)
	}
	if strings.ContainsAny(err.Error(), "\r\n\x1b") {
		t.Errorf("control characters in %q", err.Error())
	}
	if _, advice := DescribeError(err); !strings.Contains(advice, "consent") {
		t.Errorf("advice = %q", advice)
	}
	body := waitPage(t, pages).body
	for _, bad := range []string{"<script>", "<img", "onerror=alert(1)>"} {
		if strings.Contains(body, bad) {
			t.Errorf("page holds %q unescaped:\n%s", bad, body)
		}
	}
	if !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("page lacks the escaped description:\n%s", body)
	}
}

// A device code without expires_in does not make the sign-in poll forever.
func TestLoginDeviceWithoutExpiryEnds(t *testing.T) {
	old := deviceCodeLifetime
	deviceCodeLifetime = 1500 * time.Millisecond
	defer func() { deviceCodeLifetime = old }()
	mux := http.NewServeMux()
	mux.HandleFunc("/device", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"device_code":"dc","user_code":"UC","verification_uri":"https://example.com/device","interval":1}`))
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		oauthError(w, http.StatusBadRequest, "authorization_pending", "")
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	cfg := Config{Preset: "custom", Flow: "device", ClientID: "cid", DeviceURL: srv.URL + "/device", TokenURL: srv.URL + "/token"}
	var shown DeviceCode
	done := make(chan error, 1)
	go func() {
		_, err := LoginDevice(context.Background(), cfg, DeviceOptions{Logger: quiet, OnCode: func(c DeviceCode) { shown = c }})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrDeviceCodeExpired) {
			t.Errorf("err = %v, want ErrDeviceCodeExpired", err)
		}
		if shown.Expiry.IsZero() {
			t.Error("the code was shown without an expiry")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("LoginDevice still polling")
	}
}
