package auth

import (
	"net/url"
	"strconv"
	"strings"

	"mailmover/i18n"
	"mailmover/store"
)

// redirect is a validated loopback redirect URI.
type redirect struct {
	uri  string // as given (sent identically to both endpoints)
	host string // "localhost", "127.0.0.1" or "::1"
	port int    // 0: any free port (chosen when listening)
	path string // the path served, "/" at least
}

// ValidateRedirect checks a loopback redirect URI (RFC 8252 section 7.3) and its port and
// returns the port to listen on. Accepted are only http://localhost:PORT/…,
// http://127.0.0.1:PORT/… and http://[::1]:PORT/… (store.RedirectHost, the hosts the
// listener binds): https, any other host, user info, a
// query or a fragment are refused with the reason. The port must be in the URI; port must
// equal it, or be 0 to be filled from it. A URI port of 0 (with port 0) means "any free
// port", for providers that accept any loopback port. Errors are *ConfigError naming
// "redirect_uri" or "redirect_port" (or both).
func ValidateRedirect(uri string, port int) (int, error) {
	r, err := parseRedirect(uri, port)
	if err != nil {
		return 0, err
	}
	return r.port, nil
}

func parseRedirect(uri string, port int) (redirect, error) {
	bad := func(reason string) (redirect, error) {
		return redirect{}, &ConfigError{Field: "redirect_uri", Reason: reason}
	}
	both := "redirect_uri, redirect_port" // i18n:keep (the fields)
	if port < 0 || port > 65535 {
		return redirect{}, &ConfigError{Field: "redirect_port", Reason: i18n.Sprintf("%d is not a port (0–65535)", port)}
	}
	if strings.TrimSpace(uri) == "" {
		return bad(i18n.Sprintf("empty; use a loopback address such as %s", DefaultRedirectURI))
	}
	if uri != strings.TrimSpace(uri) {
		return bad(i18n.T("has leading or trailing spaces"))
	}
	for _, c := range uri {
		if c < 0x21 || c == 0x7f {
			return bad(i18n.T("contains a space or control character"))
		}
		if c == '\\' {
			return bad(i18n.T("contains a backslash"))
		}
	}
	lower := strings.ToLower(uri)
	if strings.HasPrefix(lower, "https://") {
		return bad(i18n.T("https is refused: a desktop app's loopback redirect must be plain http://localhost:PORT/ (RFC 8252 section 7.3); the browser never leaves this machine"))
	}
	if !strings.HasPrefix(uri, "http://") {
		return bad(i18n.Sprintf("%q must start with http:// and name localhost, 127.0.0.1 or [::1]", uri))
	}
	u, err := url.Parse(uri)
	if err != nil {
		return bad(i18n.Sprintf("cannot be parsed: %v", err))
	}
	if u.User != nil {
		return bad(i18n.T("must not contain user info (a name before @)"))
	}
	if u.RawQuery != "" || u.ForceQuery {
		return bad(i18n.T("must not contain a query (?…)"))
	}
	if u.Fragment != "" || strings.Contains(uri, "#") {
		return bad(i18n.T("must not contain a fragment (#…)"))
	}
	if u.Opaque != "" {
		return bad(i18n.T("is not a valid http URL"))
	}
	// Split the authority by hand: url.Parse accepts forms (empty port, zones) that we do
	// not want to interpret.
	hostport := u.Host
	var host, portStr string
	switch {
	case strings.HasPrefix(hostport, "["):
		end := strings.Index(hostport, "]")
		if end < 0 {
			return bad(i18n.T("has an unclosed [ in the host"))
		}
		host = hostport[1:end]
		rest := hostport[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return bad(i18n.T("has text after the IPv6 host"))
			}
			portStr = rest[1:]
			if portStr == "" {
				return bad(i18n.T("has an empty port after ':'"))
			}
		}
	default:
		host = hostport
		if i := strings.LastIndex(hostport, ":"); i >= 0 {
			host, portStr = hostport[:i], hostport[i+1:]
			if portStr == "" {
				return bad(i18n.T("has an empty port after ':'"))
			}
		}
	}
	bind, ok := store.RedirectHost(host)
	if !ok {
		return bad(i18n.Sprintf("host %q is refused: only localhost, 127.0.0.1 or [::1] receive the answer on this machine (RFC 8252); another host would hand the code to someone else", host))
	}
	host = bind
	uriPort := -1
	if portStr != "" {
		if len(portStr) > 5 || (len(portStr) > 1 && portStr[0] == '0') {
			return bad(i18n.Sprintf("port %q is not a port number", portStr))
		}
		n, err := strconv.Atoi(portStr)
		if err != nil || n < 0 || n > 65535 || strconv.Itoa(n) != portStr {
			return bad(i18n.Sprintf("port %q is not a port number", portStr))
		}
		uriPort = n
	}
	switch {
	case uriPort < 0 && port == 0:
		return redirect{}, &ConfigError{Field: both, Reason: i18n.Sprintf("redirect_uri %q has no port and redirect_port is 0: put the port in the URI, e.g. http://%s:%d/", uri, hostForURI(host), DefaultRedirectPort)}
	case uriPort < 0:
		return redirect{}, &ConfigError{Field: both, Reason: i18n.Sprintf("redirect_uri %q has no port but redirect_port is %d: they must agree, e.g. http://%s:%d/", uri, port, hostForURI(host), port)}
	case port != 0 && port != uriPort:
		return redirect{}, &ConfigError{Field: both, Reason: i18n.Sprintf("redirect_uri names port %d but redirect_port is %d: they must agree", uriPort, port)}
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	if strings.Contains(path, "/../") || strings.HasSuffix(path, "/..") || strings.Contains(path, "/./") {
		return bad(i18n.Sprintf("path %q has dot segments", path))
	}
	return redirect{uri: uri, host: host, port: uriPort, path: path}, nil
}

// withPort returns the redirect URI with its port replaced (for a URI port of 0).
func (r redirect) withPort(port int) string {
	u, err := url.Parse(r.uri)
	if err != nil {
		return r.uri
	}
	u.Host = hostForURI(r.host) + ":" + strconv.Itoa(port)
	return u.String()
}

func hostForURI(host string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}
