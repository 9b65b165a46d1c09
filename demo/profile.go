package demo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"mailmover/i18n"
	"mailmover/internal/durable"
	"mailmover/store"
)

// ProfileName is the name of the profile the demo writes (profiles/demo.toml) unless a
// profile of that name is the user's: then it is demo-2, demo-3, … (see claimProfile).
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
func newProfile(name string, pp profileParams) *store.Profile {
	p := store.DefaultProfile(name)
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

// ErrForeignProfile means no profile name for the demo was free: profiles/demo.toml and
// every demo-N.toml the demo tried exist and were not written by the demo.
var ErrForeignProfile = i18n.NewError("a profile named demo exists and does not belong to the demo")

// ownerMarkName is the demo's ownership marker in the profiles folder. It names the
// profile the demo wrote last and holds the SHA-256 of that file as written. Only a
// profile file that the marker names and whose bytes still have that hash is the demo's
// and may be rewritten (with its tokens and state cleared); any other file of that name
// is the user's, whatever it holds (a real server, a loopback host, invalid TOML), and
// is never touched: the demo takes the next free name (demo-2, demo-3, …). The window's
// Save of an unchanged demo profile writes the same bytes, so it stays the demo's; a
// demo profile changed and saved becomes the user's. ListProfiles lists only *.toml, so
// the marker never shows as a profile.
const ownerMarkName = ".demo-owned"

// maxDemoProfiles bounds the names tried: demo, demo-2, … demo-20.
const maxDemoProfiles = 20

// ownerMark is the marker's content (JSON).
type ownerMark struct {
	Profile string `json:"profile"`
	SHA256  string `json:"sha256"`
}

func ownerMarkPath(home string) string {
	return filepath.Join(store.ProfileDir(home), ownerMarkName)
}

// readOwnerMark returns the marker, or the zero mark when there is none or it cannot be
// read (then no existing profile counts as the demo's: the safe side).
func readOwnerMark(home string) ownerMark {
	var m ownerMark
	b, err := os.ReadFile(ownerMarkPath(home))
	if err != nil || len(b) > 4096 || json.Unmarshal(b, &m) != nil {
		return ownerMark{}
	}
	return m
}

// writeOwnerMark records that home's profile name, as it is on disk now, is the demo's.
func writeOwnerMark(home, name string) error {
	sum, err := fileSHA256(store.ProfilePath(home, name))
	if err != nil {
		return err
	}
	b, err := json.Marshal(ownerMark{Profile: name, SHA256: sum})
	if err != nil {
		return err
	}
	return durable.WriteFile(ownerMarkPath(home), append(b, '\n'), 0o600)
}

func fileSHA256(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// demoProfileName returns the i-th name the demo tries: demo, demo-2, demo-3, …
func demoProfileName(i int) string {
	if i <= 1 {
		return ProfileName
	}
	return ProfileName + "-" + strconv.Itoa(i)
}

// claimProfile picks the profile name the demo writes: the first of demo, demo-2, …
// that is free (no file, not even a broken link) or the demo's own by the marker. It
// returns the name and, when a profile named demo was left alone, that file's path (for
// the summary). When none is free it returns ErrForeignProfile, wrapped with the file and
// what to do.
func claimProfile(home string) (name, skipped string, err error) {
	mark := readOwnerMark(home)
	for i := 1; i <= maxDemoProfiles; i++ {
		n := demoProfileName(i)
		path := store.ProfilePath(home, n)
		fi, err := os.Lstat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return n, skipped, nil
		case err == nil && fi.Mode().IsRegular() && mark.Profile == n:
			if sum, err := fileSHA256(path); err == nil && sum == mark.SHA256 {
				return n, skipped, nil
			}
		}
		if i == 1 {
			skipped = path
		}
	}
	return "", "", i18n.Errorf("%w: %s (and %s … %s) were not written by the demo and stay as they are; rename or delete one of them ('mailmover profiles' lists them), or set MAILMOVER_HOME to another folder for the demo",
		ErrForeignProfile, store.ProfilePath(home, ProfileName), demoProfileName(2), demoProfileName(maxDemoProfiles))
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
