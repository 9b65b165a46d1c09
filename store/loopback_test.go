package store

import (
	"net"
	"strings"
	"testing"
)

// hostileHosts are names and spellings that resolve to, look like or are read by some
// parser as loopback, but are not loopback by the one rule: each could send a code,
// verifier or secret to another machine over plain http.
var hostileHosts = []string{
	"127.0.0.1.nip.io", "127.evil.example", "127.0.0.1.", "localhost.", "localhost.evil.example",
	"x.localhost", "localhost:3017", "0x7f.1", "0x7f000001", "0177.0.0.1", "127.1", "127.0.1",
	"2130706433", "127.000.000.001", "0.0.0.0", "::", "[::]", "::1%lo", "::1%25lo", "[::1%lo]",
	"::ffff:7f00:1.nip.io", "::ffff:10.0.0.1", "10.0.0.1", "192.168.1.1", "example.com",
	"[127.0.0.1]", "[localhost]", "loca1host", "localhost\x00", " localhost", "localhost ",
	"127.0.0.1 ", "ⅼocalhost", "",
}

func TestIsLoopbackHost(t *testing.T) {
	for _, h := range []string{
		"localhost", "LOCALHOST", "LocalHost", "127.0.0.1", "127.0.0.2", "127.255.255.254",
		"::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "[::ffff:127.0.0.1]",
	} {
		if !IsLoopbackHost(h) {
			t.Errorf("IsLoopbackHost(%q) = false, want true", h)
		}
	}
	for _, h := range hostileHosts {
		if IsLoopbackHost(h) {
			t.Errorf("IsLoopbackHost(%q) = true, want false", h)
		}
	}
}

func TestRedirectHost(t *testing.T) {
	for h, want := range map[string]string{
		"localhost": "localhost", "LocalHost": "localhost", "127.0.0.1": "127.0.0.1",
		"::1": "::1", "[::1]": "::1",
	} {
		if got, ok := RedirectHost(h); !ok || got != want {
			t.Errorf("RedirectHost(%q) = %q, %v; want %q", h, got, ok, want)
		}
	}
	// Loopback, but not what the sign-in listener binds, or not spelled as the browser
	// will use it.
	for _, h := range append([]string{"127.0.0.2", "::ffff:127.0.0.1", "0:0:0:0:0:0:0:1"}, hostileHosts...) {
		if got, ok := RedirectHost(h); ok {
			t.Errorf("RedirectHost(%q) = %q, true; want refused", h, got)
		}
	}
}

// The rule holds in every place that decides "loopback" from a profile: plain http
// endpoints, tls = "none" and the redirect.
func TestLoopbackRuleInValidate(t *testing.T) {
	for _, h := range hostileHosts {
		if h == "" || strings.ContainsAny(h, "[]% \x00:") {
			continue // not a host of a URL or setup.host at all
		}
		p := DefaultProfile("x")
		p.Setup.Host = h
		p.Setup.Username = "u"
		p.Destination.Folder = "/srv/in"
		p.Security.TLS = TLSNone
		p.OAuth2.ClientID = "c"
		p.OAuth2.TokenURL = "http://" + h + "/token"
		p.OAuth2.AuthorizationURL = "http://" + h + "/authorize"
		p.OAuth2.RedirectURI = "http://" + h + ":3017/"
		p.OAuth2.RedirectPort = 3017
		got := map[string]bool{}
		for _, fe := range FieldErrors(p.Validate()) {
			got[fe.Key] = true
		}
		for _, k := range []string{"security.tls", "oauth2.token_url", "oauth2.authorization_url", "oauth2.redirect_uri"} {
			if !got[k] {
				t.Errorf("host %q: %s accepted", h, k)
			}
		}
	}
}

// FuzzIsLoopbackHost: whatever the rule accepts is "localhost" in some case or an IP
// address that is loopback; whatever RedirectHost accepts is one of three hosts.
func FuzzIsLoopbackHost(f *testing.F) {
	for _, h := range append([]string{"localhost", "127.0.0.1", "::1", "[::1]", "::ffff:127.0.0.1"}, hostileHosts...) {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h string) {
		if IsLoopbackHost(h) {
			bare := strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
			ip := net.ParseIP(bare)
			if !strings.EqualFold(bare, "localhost") && (ip == nil || !ip.IsLoopback()) {
				t.Fatalf("IsLoopbackHost(%q) accepted a host that is neither localhost nor a loopback IP", h)
			}
			if strings.HasSuffix(h, ".") || strings.ContainsAny(h, "% \x00") {
				t.Fatalf("IsLoopbackHost(%q) accepted", h)
			}
		}
		if b, ok := RedirectHost(h); ok {
			if !IsLoopbackHost(h) || (b != "localhost" && b != "127.0.0.1" && b != "::1") {
				t.Fatalf("RedirectHost(%q) = %q", h, b)
			}
		}
	})
}
