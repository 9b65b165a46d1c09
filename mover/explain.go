package mover

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"syscall"

	"mailmover/auth"
	"mailmover/i18n"
	"mailmover/imapsrc"
	"mailmover/store"
)

// Advice is what a front end shows for an error: what went wrong, what to do, and — as
// data, for the front end to render its own way — which profile setting to change and
// whether the user must sign in again.
type Advice struct {
	// What says what failed, in one line.
	What string
	// Fix says what to do about it; empty when nothing specific is known.
	Fix string
	// Field is the profile key to change ("security.tls"), when one is known.
	Field string
	// SignIn is set when the user must sign in again (GET in the window, or 'mailmover
	// login').
	SignIn bool
}

// Explain turns an error of the engine (or of auth, imapsrc or store under it) into
// Advice for profile (the commands the advice names carry the profile: the errors know it
// where they arise, and auth.DescribeErrorFor names it for those that do not). It is the
// one place that does so: the window, the command line and the mover's own events use it.
func Explain(err error, profile string) Advice {
	if err == nil {
		return Advice{}
	}
	a := Advice{What: err.Error()}
	var (
		ie *imapsrc.Error
		re *auth.ReauthError
		ce *auth.ConfigError
		ku *store.KeyringUnavailableError
		te *TimeoutError
	)
	switch {
	case errors.As(err, &te):
		a.What = te.Error()
		a.Fix = i18n.T("Check host, port and the network; or give a longer -timeout.")
	case errors.As(err, &ie):
		if ie.Reason != "" {
			a.What = ie.Reason
		} else if ie.Op != "" {
			a.What = i18n.Sprintf("%s failed", ie.Op)
		}
		a.Fix = ie.Advice
		a.Field = kindField[ie.Kind]
		if ie.Kind == imapsrc.KindToken {
			if _, fix := auth.DescribeErrorFor(ie.Err, profile); fix != "" {
				a.Fix = fix
			}
			a.SignIn = errors.As(err, &re)
		}
	case errors.As(err, &re):
		_, a.Fix = auth.DescribeErrorFor(err, profile)
		a.SignIn = true
	case errors.As(err, &ku):
		a.Fix = ku.Advice()
	default:
		_, a.Fix = auth.DescribeErrorFor(err, profile)
		if errors.As(err, &ce) {
			a.Field = "oauth2." + ce.Field
			switch {
			case slices.Contains(store.SecretKinds, ce.Field):
				a.Field = "" // a secret in the keyring, not a profile key
			case strings.Contains(ce.Field, "."):
				a.Field = ce.Field // already names its table ("setup.username")
			}
		}
		if fe := store.FieldErrors(err); len(fe) > 0 {
			a.Field = fe[0].Key
		}
	}
	if a.Fix == "" {
		a.Fix = localAdvice(err)
	}
	return a
}

// kindField names the profile key behind an imapsrc error kind, where there is one.
var kindField = map[imapsrc.Kind]string{
	imapsrc.KindConnect:   "setup.host",
	imapsrc.KindTLS:       "security.tls",
	imapsrc.KindInsecure:  "security.tls",
	imapsrc.KindMechanism: "security.auth",
	imapsrc.KindFolder:    "setup.folder",
}

// localAdvice says what to check about an error of the mover's own files.
func localAdvice(err error) string {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return i18n.T("The destination disk is full (or over quota): free some space; the message is tried again on the next pass.")
	case errors.Is(err, syscall.EFBIG):
		return i18n.T("The file is larger than the destination file system or a file-size limit allows (ulimit -f); the message is tried again on the next pass.")
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		return i18n.T("MailMover may not write there: check the destination folder's permissions (and that it is not read-only).")
	case errors.Is(err, syscall.ENAMETOOLONG):
		return i18n.T("The file name is too long for the destination: use a shorter destination.filename template.")
	}
	return ""
}
