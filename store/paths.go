package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"mailmover/i18n"
)

// HomeEnv is the environment variable that overrides where MailMover keeps its files.
const HomeEnv = "MAILMOVER_HOME"

// MaxProfileNameLen is the longest profile name accepted, in characters.
const MaxProfileNameLen = 64

// Home returns the folder where MailMover keeps its files: $MAILMOVER_HOME when set, else
// os.UserConfigDir()/mailmover. The result is an absolute path; the folder may not exist
// yet (SaveProfile creates what it needs).
func Home() (string, error) { return HomeFrom(os.Getenv) }

// HomeFrom is Home with the environment read through getenv (tests and the command line
// pass their own). os.UserConfigDir still reads the process environment.
func HomeFrom(getenv func(string) string) (string, error) {
	if h := getenv(HomeEnv); h != "" {
		abs, err := filepath.Abs(h)
		if err != nil {
			return "", fmt.Errorf("%s=%q: %w", HomeEnv, h, err)
		}
		return abs, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", i18n.Errorf("no folder for MailMover's files: %w; set %s to a folder", err, HomeEnv)
	}
	return filepath.Join(dir, "mailmover"), nil
}

// ProfileDir returns the folder of the profile files, HOME/profiles.
func ProfileDir(home string) string { return filepath.Join(home, "profiles") }

// ProfilePath returns the file of profile name, HOME/profiles/NAME.toml. It does not check
// the name; see ValidProfileName.
func ProfilePath(home, name string) string {
	return filepath.Join(ProfileDir(home), name+".toml")
}

// StateDir returns the folder of the mover's checkpoints, HOME/state.
func StateDir(home string) string { return filepath.Join(home, "state") }

// StatePath returns the checkpoint file of profile name, HOME/state/NAME.json.
func StatePath(home, name string) string {
	return filepath.Join(StateDir(home), name+".json")
}

// StatusDir returns the folder of the running movers' status files, HOME/status.
func StatusDir(home string) string { return filepath.Join(home, "status") }

// StatusPath returns the status file of profile name, HOME/status/NAME.json.
func StatusPath(home, name string) string {
	return filepath.Join(StatusDir(home), name+".json")
}

// LogDir returns the folder of the log files, HOME/logs.
func LogDir(home string) string { return filepath.Join(home, "logs") }

// ErrBadProfileName is wrapped by every error of ValidProfileName.
var ErrBadProfileName = i18n.NewError("bad profile name")

// windowsReserved are device names Windows refuses as file names, with any extension.
var windowsReserved = map[string]bool{
	"CON": true, "PRN": true, "AUX": true, "NUL": true,
	"COM1": true, "COM2": true, "COM3": true, "COM4": true, "COM5": true,
	"COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true, "LPT5": true,
	"LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true,
}

// ValidProfileName reports whether name can name a profile. The name becomes a file name
// (profiles/NAME.toml, state/NAME.json) and the first part of keyring accounts
// (NAME/password), so it is held to a safe set on every system: 1 to 64 letters, digits
// and the characters - _ . @ + and space; not starting with "." or a space, not ending with
// "." or a space, and not a Windows device name such as CON or NUL. The error wraps
// ErrBadProfileName and says what is wrong.
func ValidProfileName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w %q: %s", ErrBadProfileName, name, why)
	}
	switch {
	case name == "":
		return i18n.Errorf("%w: the name is empty", ErrBadProfileName)
	case !utf8.ValidString(name):
		return bad(i18n.T("not valid UTF-8"))
	case utf8.RuneCountInString(name) > MaxProfileNameLen:
		return bad(i18n.Sprintf("longer than %d characters", MaxProfileNameLen))
	case strings.HasPrefix(name, ".") || strings.HasPrefix(name, " "):
		return bad(i18n.T(`starts with "." or a space`))
	case strings.HasSuffix(name, ".") || strings.HasSuffix(name, " "):
		return bad(i18n.T(`ends with "." or a space`))
	}
	for _, r := range name {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), strings.ContainsRune("-_.@+ ", r):
		case r == '/' || r == '\\':
			return bad(i18n.T("path separators are not allowed"))
		case unicode.IsControl(r):
			return bad(i18n.T("control characters are not allowed"))
		default:
			return bad(i18n.Sprintf("%q is not allowed (use letters, digits and - _ . @ + space)", r))
		}
	}
	if strings.Contains(name, "..") {
		return bad(i18n.T(`".." is not allowed`))
	}
	base := strings.ToUpper(name)
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	if windowsReserved[strings.TrimSpace(base)] {
		return bad(i18n.T("a reserved device name on Windows"))
	}
	return nil
}

// ExpandPath turns a path from a profile into an absolute one: "~" or "~/…" is taken from
// the user's home folder. Relative paths are refused, because the window and a service
// start in different working folders and would read them differently.
func ExpandPath(p string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", i18n.Errorf("cannot expand %q: %w", p, err)
		}
		return filepath.Join(h, p[1:]), nil
	}
	if !filepath.IsAbs(p) {
		return "", notAbsolute(p) // paths_windows.go, paths_other.go
	}
	return filepath.Clean(p), nil
}

// pathIsAcceptable is ExpandPath's syntax check without touching the environment.
func pathIsAcceptable(p string) bool {
	return p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) || filepath.IsAbs(p)
}

// DestinationDir returns destination.folder as an absolute path, with "~" expanded (see
// ExpandPath). Use it instead of Destination.Folder when writing files.
func (p *Profile) DestinationDir() (string, error) {
	d, err := ExpandPath(p.Destination.Folder)
	if err != nil {
		return "", fmt.Errorf("destination.folder: %w", err)
	}
	return d, nil
}

// CAFilePath returns security.ca_file as an absolute path with "~" expanded, or "" when
// none is set.
func (p *Profile) CAFilePath() (string, error) {
	if p.Security.CAFile == "" {
		return "", nil
	}
	f, err := ExpandPath(p.Security.CAFile)
	if err != nil {
		return "", fmt.Errorf("security.ca_file: %w", err)
	}
	return f, nil
}
