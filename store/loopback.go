package store

import (
	"net"
	"strings"
)

// IsLoopbackHost is MailMover's one rule for "this host is this machine": it decides
// where plain http is allowed for an OAuth2 endpoint (authorization, token and device
// URLs), where tls = "none" is allowed, and (through RedirectHost) which sign-in
// redirects are accepted. Every package asks here; none keeps a copy.
//
// host is a host as url.URL.Hostname returns it or as setup.host holds it (an IPv6
// address may be in brackets). Loopback is exactly:
//   - "localhost", in any case; or
//   - an IP address literal that is a loopback address (127.0.0.0/8, ::1, also written
//     as an IPv4-mapped IPv6 address such as ::ffff:127.0.0.1), as net.ParseIP reads it.
//
// Nothing else: not "localhost." or "x.localhost", not a name that merely resolves to
// loopback (127.0.0.1.nip.io), not the short, octal, hex or decimal forms some resolvers
// accept (127.1, 0177.0.0.1, 0x7f.1, 2130706433), not an address with a zone (::1%lo),
// not 0.0.0.0 or ::.
func IsLoopbackHost(host string) bool {
	h := host
	if len(h) >= 2 && h[0] == '[' && h[len(h)-1] == ']' {
		h = h[1 : len(h)-1]
		if !strings.Contains(h, ":") {
			return false // brackets belong to IPv6 only
		}
	}
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// RedirectHost says whether host may be the host of a sign-in redirect URI, and returns
// the form the sign-in listener binds: "localhost" (any case; the listener binds
// 127.0.0.1 and, where there is IPv6 loopback, ::1), "127.0.0.1" or "::1" (the listener
// binds exactly that address). These are the loopback hosts (IsLoopbackHost) the
// listener serves, spelled as the browser will use them; another loopback address or
// spelling (127.0.0.2, ::ffff:127.0.0.1, 0:0::1) is refused, since the browser would
// go to an address nothing of ours listens on, where another program could.
func RedirectHost(host string) (bind string, ok bool) {
	if !IsLoopbackHost(host) {
		return "", false
	}
	h := strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	switch {
	case strings.EqualFold(h, "localhost"):
		return "localhost", true
	case h == "127.0.0.1", h == "::1":
		return h, true
	}
	return "", false
}
