package auth

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestValidateRedirect(t *testing.T) {
	tests := []struct {
		uri      string
		port     int
		wantPort int
		field    string // "" = accepted; else the field the error names
		reason   string // substring of the error
	}{
		{"http://localhost:3017/", 3017, 3017, "", ""},
		{"http://localhost:3017/", 0, 3017, "", ""},
		{"http://127.0.0.1:8080/callback", 0, 8080, "", ""},
		{"http://[::1]:9000/cb/", 9000, 9000, "", ""},
		{"http://LOCALHOST:3017/", 0, 3017, "", ""},
		{"http://localhost:3017", 0, 3017, "", ""},
		{"http://127.0.0.1:0/", 0, 0, "", ""},
		{"https://localhost:3017/", 0, 0, "redirect_uri", "https is refused"},
		{"HTTPS://localhost:3017/", 0, 0, "redirect_uri", "https is refused"},
		{"http://example.com:3017/", 0, 0, "redirect_uri", `host "example.com" is refused`},
		{"http://localhost.example.com:3017/", 0, 0, "redirect_uri", "is refused"},
		{"http://127.0.0.2:3017/", 0, 0, "redirect_uri", "is refused"},
		{"http://0.0.0.0:3017/", 0, 0, "redirect_uri", "is refused"},
		{"http://[::1%25lo]:3017/", 0, 0, "redirect_uri", "is refused"},
		{"http://evil.com@127.0.0.1:3017/", 0, 0, "redirect_uri", "user info"},
		{"http://127.0.0.1:3017@evil.com/", 0, 0, "redirect_uri", "user info"},
		{"http://127.0.0.1:3017\\@evil.com/", 0, 0, "redirect_uri", "backslash"},
		{"http://127.0.0.1:3017/?x=1", 0, 0, "redirect_uri", "query"},
		{"http://127.0.0.1:3017/#x", 0, 0, "redirect_uri", "fragment"},
		{"ftp://127.0.0.1:3017/", 0, 0, "redirect_uri", "must start with http://"},
		{"localhost:3017", 0, 0, "redirect_uri", "must start with http://"},
		{"", 0, 0, "redirect_uri", "empty"},
		{" http://localhost:3017/", 0, 0, "redirect_uri", "spaces"},
		{"http://localhost:3017/a b", 0, 0, "redirect_uri", "space or control"},
		{"http://localhost:03017/", 0, 0, "redirect_uri", "not a port number"},
		{"http://localhost:70000/", 0, 0, "redirect_uri", "not a port number"},
		{"http://localhost:/", 0, 0, "redirect_uri", "empty port"},
		{"http://localhost:3017/", 3018, 0, "redirect_uri, redirect_port", "names port 3017 but redirect_port is 3018"},
		{"http://localhost/", 0, 0, "redirect_uri, redirect_port", "has no port and redirect_port is 0"},
		{"http://localhost/", 3017, 0, "redirect_uri, redirect_port", "has no port but redirect_port is 3017"},
		{"http://localhost:3017/", -1, 0, "redirect_port", "not a port"},
		{"http://localhost:3017/", 65536, 0, "redirect_port", "not a port"},
		{"http://localhost:3017/a/../b", 0, 0, "redirect_uri", "dot segments"},
	}
	for _, tc := range tests {
		t.Run(tc.uri, func(t *testing.T) {
			port, err := ValidateRedirect(tc.uri, tc.port)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("ValidateRedirect(%q, %d) = %v, want accepted", tc.uri, tc.port, err)
				}
				if port != tc.wantPort {
					t.Fatalf("port = %d, want %d", port, tc.wantPort)
				}
				return
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("ValidateRedirect(%q, %d) = %v, want *ConfigError", tc.uri, tc.port, err)
			}
			if ce.Field != tc.field || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("error = %q (field %q), want field %q and %q", err, ce.Field, tc.field, tc.reason)
			}
		})
	}
}

// FuzzValidateRedirect: whatever ValidateRedirect accepts is a plain-http URL whose host
// is a loopback name and whose port is the one returned.
func FuzzValidateRedirect(f *testing.F) {
	for _, s := range []string{
		"http://localhost:3017/", "http://127.0.0.1:1/x", "http://[::1]:2/", "https://localhost:1/",
		"http://a@127.0.0.1:1/", "http://127.0.0.1:1\\@e.com/", "http://127.0.0.1:1#@e.com/",
		"http://[::1%25x]:1/", "http://127.0.0.1%2e:1/", "http://localhost:3017/%2e%2e/",
		"HTTP://LOCALHOST:3017/", "http://127.0.0.1:0/",
	} {
		f.Add(s, 0)
	}
	f.Fuzz(func(t *testing.T, uri string, port int) {
		got, err := ValidateRedirect(uri, port)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field == "" {
				t.Fatalf("error %v is not a *ConfigError naming a field", err)
			}
			return
		}
		if !strings.HasPrefix(uri, "http://") {
			t.Fatalf("accepted %q without the http:// prefix", uri)
		}
		u, err := url.Parse(uri)
		if err != nil {
			t.Fatalf("accepted %q, which does not parse: %v", uri, err)
		}
		if u.Scheme != "http" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("accepted %q: scheme %q, user %v, query %q, fragment %q", uri, u.Scheme, u.User, u.RawQuery, u.Fragment)
		}
		switch h := strings.ToLower(u.Hostname()); h {
		case "localhost", "127.0.0.1", "::1":
		default:
			t.Fatalf("accepted %q with host %q", uri, h)
		}
		if u.Port() == "" || (port != 0 && got != port) || u.Port() != strconv.Itoa(got) {
			t.Fatalf("accepted %q with port %d → %d (URI port %q)", uri, port, got, u.Port())
		}
	})
}
