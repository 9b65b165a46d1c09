package demo

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"mailmover/i18n"
	"mailmover/store"
)

// ProfileName is the name of the profile the demo writes (profiles/demo.toml).
const ProfileName = "demo"

// PreferredRedirectPort is the redirect port the demo profile uses when it is free.
const PreferredRedirectPort = 3017

// profileParams is what the demo profile points at.
type profileParams struct {
	imapHost     string
	imapPort     int
	user         string
	authURL      string
	tokenURL     string
	deviceURL    string
	clientID     string
	redirectPort int
	dest         string // absolute
}

// newProfile returns the demo profile: the in-process IMAP server without TLS (loopback
// only), XOAUTH2 with tokens of the in-process provider's public PKCE client, every
// attachment of unseen mail saved to dest, marked seen afterwards, watched with IDLE.
func newProfile(pp profileParams) *store.Profile {
	p := store.DefaultProfile(ProfileName)
	p.Setup = store.Setup{Host: pp.imapHost, Port: pp.imapPort, Username: pp.user, Folder: "INBOX"}
	p.Security = store.Security{TLS: store.TLSNone, Auth: store.AuthXOAuth2, VerifyCertificate: true}
	p.Common.Search = store.SearchUnseen
	p.Common.AttachmentMask = "*"
	p.Common.Save = []string{store.SaveAttachments}
	p.Common.After = store.AfterSeen
	p.Common.Watch = store.WatchIdle
	p.Common.PollInterval = store.Duration{Duration: 60 * time.Second}
	p.OAuth2 = store.OAuth2{
		Preset:           store.PresetCustom,
		Flow:             store.FlowAuthCode,
		AuthorizationURL: pp.authURL,
		TokenURL:         pp.tokenURL,
		DeviceURL:        pp.deviceURL,
		ClientID:         pp.clientID,
		Scope:            "openid offline_access", // i18n:keep (OAuth2 scopes)
		RedirectURI:      "http://localhost:" + strconv.Itoa(pp.redirectPort) + "/",
		RedirectPort:     pp.redirectPort,
	}
	p.Destination = store.Destination{Folder: pp.dest, Filename: "{filename}", OnConflict: store.ConflictRename}
	return p
}

// ErrForeignProfile means profiles/demo.toml exists and points at a real server, so the
// demo refuses to overwrite it.
var ErrForeignProfile = i18n.NewError("a profile named demo exists and does not belong to the demo")

// checkOwnProfile returns ErrForeignProfile (wrapped, with advice) when home holds a demo
// profile whose IMAP host is not a loopback address: that one is the user's own and must
// not be overwritten. A profile that cannot be read at all is left to SaveProfile, which
// replaces it.
func checkOwnProfile(home string) error {
	if !store.ProfileExists(home, ProfileName) {
		return nil
	}
	p, err := store.LoadProfile(home, ProfileName)
	if err != nil || p == nil {
		return nil // broken or unreadable: the demo's own leftovers, replaced below
	}
	if ip := net.ParseIP(p.Setup.Host); (ip != nil && ip.IsLoopback()) || p.Setup.Host == "localhost" {
		return nil
	}
	return i18n.Errorf("%w (it reads %s); rename it first ('mailmover profiles' lists them), or set MAILMOVER_HOME to another folder for the demo", ErrForeignProfile, p.Setup.Host)
}

// pickRedirectPort returns preferred when nothing listens on it on 127.0.0.1 (and ::1,
// where this machine has IPv6 loopback), else a free port chosen by the system.
func pickRedirectPort(preferred int) (int, error) {
	if preferred > 0 && portFree(preferred) {
		return preferred, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, i18n.Errorf("no free loopback port for the sign-in redirect: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return port, nil
}

// portFree reports whether port can be bound on 127.0.0.1 and, if IPv6 loopback exists,
// on ::1 (the sign-in listener for "localhost" binds both).
func portFree(port int) bool {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	defer ln.Close()
	ln6, err := net.Listen("tcp", net.JoinHostPort("::1", strconv.Itoa(port)))
	if err != nil {
		// No IPv6 loopback here is fine; "in use" is not.
		return !isAddrInUse(err)
	}
	_ = ln6.Close()
	return true
}

// wsaeAddrInUse is Windows' WSAEADDRINUSE, which is not syscall.EADDRINUSE there.
const wsaeAddrInUse = syscall.Errno(10048)

// isAddrInUse reports whether a listen error says the address is taken: by its error
// number, which holds in every language; the English texts are a last resort.
func isAddrInUse(err error) bool {
	if errors.Is(err, syscall.EADDRINUSE) || errors.Is(err, wsaeAddrInUse) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "address already in use") || // i18n:keep (the system's text)
		strings.Contains(s, "Only one usage of each socket address") // i18n:keep (the system's text)
}
