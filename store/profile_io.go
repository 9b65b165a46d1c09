package store

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"mailmover/i18n"
	"mailmover/internal/durable"
)

// Microsoft 365 defaults (the microsoft preset with tenant "organizations").
const (
	defaultMicrosoftAuthURL   = "https://login.microsoftonline.com/organizations/oauth2/v2.0/authorize"
	defaultMicrosoftTokenURL  = "https://login.microsoftonline.com/organizations/oauth2/v2.0/token"
	defaultMicrosoftDeviceURL = "https://login.microsoftonline.com/organizations/oauth2/v2.0/devicecode"
	defaultMicrosoftScope     = "https://outlook.office.com/IMAP.AccessAsUser.All offline_access" // i18n:keep
	defaultRedirectPort       = 3017
)

// DefaultProfile returns a new profile named name with the defaults: IMAPS on port 993
// with a verified certificate, XOAUTH2 through the Microsoft 365 preset (tenant
// "organizations", authorization-code flow, redirect http://localhost:3017/), unseen mail
// of INBOX, every attachment saved as "{filename}" (renamed on conflict), marked seen
// afterwards, watched with IDLE (poll every 60s as a fallback). Host, username, client_id
// and the destination folder are left empty: Validate asks for them.
func DefaultProfile(name string) *Profile {
	return &Profile{
		Name: name,
		Setup: Setup{
			Port:   993,
			Folder: "INBOX",
		},
		Security: Security{
			TLS:               TLSImplicit,
			Auth:              AuthXOAuth2,
			VerifyCertificate: true,
		},
		Common: Common{
			Search:         SearchUnseen,
			AttachmentMask: "*",
			Save:           []string{SaveAttachments},
			After:          AfterSeen,
			Watch:          WatchIdle,
			PollInterval:   Duration{60 * time.Second},
		},
		OAuth2: OAuth2{
			Preset:           PresetMicrosoft,
			Flow:             FlowAuthCode,
			Tenant:           "organizations",
			AuthorizationURL: defaultMicrosoftAuthURL,
			TokenURL:         defaultMicrosoftTokenURL,
			DeviceURL:        defaultMicrosoftDeviceURL,
			Scope:            defaultMicrosoftScope,
			RedirectURI:      "http://localhost:3017/",
			RedirectPort:     defaultRedirectPort,
		},
		Destination: Destination{
			Filename:   "{filename}",
			OnConflict: ConflictRename,
		},
	}
}

// MaxProfileSize is the largest profile file read; a profile is a few hundred bytes.
const MaxProfileSize = 1 << 20

// ParseProfile reads a profile from TOML text. Keys left out keep DefaultProfile's values.
// It is strict: a syntax error, an unknown key, a value of the wrong type and every
// problem Validate finds come back joined as *FieldError values that name the key and the
// line, with File "profiles/NAME.toml". name, when not empty, must pass ValidProfileName.
func ParseProfile(name string, data []byte) (*Profile, error) {
	file := "profiles/" + name + ".toml"
	if name == "" {
		file = "profile"
	}
	return parseProfile(file, name, data)
}

func parseProfile(file, name string, data []byte) (*Profile, error) {
	if name != "" {
		if err := ValidProfileName(name); err != nil {
			return nil, err
		}
	}
	if len(data) > MaxProfileSize {
		return nil, &FieldError{File: file, Msg: i18n.Sprintf("the file is %d bytes; a profile is at most %d", len(data), MaxProfileSize)}
	}
	text := string(data)
	p := DefaultProfile(name)
	md, err := toml.Decode(text, p)
	if err != nil {
		return nil, decodeError(file, text, err)
	}
	lines := keyLines(text)
	var errs []error
	undecoded := md.Undecoded()
	unknown := make(map[string]bool, len(undecoded))
	for _, k := range undecoded {
		unknown[strings.Join(k, "\x00")] = true
	}
	more := 0
	for _, k := range undecoded {
		if len(k) > 1 && unknown[strings.Join(k[:len(k)-1], "\x00")] {
			continue // reported with its table
		}
		if len(errs) == maxUnknownReported {
			more++
			continue
		}
		errs = append(errs, &FieldError{File: file, Key: k.String(), Line: lineOf(lines, strings.Join(k, ".")), Msg: unknownKeyMsg(k)})
	}
	if more > 0 {
		errs = append(errs, &FieldError{File: file, Msg: i18n.Sprintf("and %d more unknown keys", more)})
	}
	if len(errs) > 0 {
		// A misspelt key leaves its default in place; say only what is certain.
		return nil, errors.Join(errs...)
	}
	if err := p.Validate(); err != nil {
		for _, fe := range FieldErrors(err) {
			fe.File = file
			fe.Line = lines[fe.Key]
		}
		return nil, err
	}
	return p, nil
}

// maxUnknownReported caps the unknown keys listed in one error.
const maxUnknownReported = 20

// lastKeyRe reads the position out of BurntSushi/toml's type errors, which are plain
// errors: `toml: line 3 (last key "setup.port"): incompatible types: …`.
var lastKeyRe = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "((?:[^"\\]|\\.)*)"\): (.*)$`) // i18n:keep

// incompatibleRe reads `incompatible types: TOML value has type X; destination has type Y`.
var incompatibleRe = regexp.MustCompile(`TOML value has type ([^;]+); destination has type (.+)$`) // i18n:keep

// decodeError turns an error of toml.Decode into a *FieldError with key and line.
func decodeError(file, text string, err error) error {
	fe := &FieldError{File: file, Msg: err.Error()}
	var pe toml.ParseError
	if errors.As(err, &pe) {
		fe.Line, fe.Msg = pe.Position.Line, pe.Message
		// LastKey is the key being read, or only the one before a syntax error: name it
		// when it is defined on the line of the error.
		lines := keyLines(text)
		if pe.LastKey != "" && lines[pe.LastKey] == pe.Position.Line {
			fe.Key = pe.LastKey
		}
		if m := duplicateRe.FindStringSubmatch(pe.Message); m != nil {
			// "Key 'setup.port' has already been defined.": name the key and where it
			// was first given.
			fe.Key = m[1]
			fe.Msg = i18n.T("is given twice; each key (and table) may appear only once")
			if first := lines[m[1]]; first > 0 && first != fe.Line {
				fe.Msg += i18n.Sprintf(" (first at line %d)", first)
			}
		}
		if strings.HasSuffix(fe.Key, "poll_interval") {
			fe.Msg += i18n.T(`; write a duration such as "60s" or "5m"`)
		}
	} else if m := lastKeyRe.FindStringSubmatch(err.Error()); m != nil {
		key, _ := strconv.Unquote(`"` + m[2] + `"`)
		fe.Key, fe.Msg = key, m[3]
		fe.Line, _ = strconv.Atoi(m[1])
		if fe.Line == 0 {
			fe.Line = lineOf(keyLines(text), key)
		}
		if t := incompatibleRe.FindStringSubmatch(m[3]); t != nil {
			fe.Msg = i18n.Sprintf("is %s; it must be %s", tomlTypeName(t[1]), tomlTypeName(t[2]))
		} else if t := mismatchRe.FindStringSubmatch(m[3]); t != nil {
			fe.Msg = i18n.Sprintf("is %s; it must be a table, written [%s]", tomlTypeName(t[1]), key)
		}
	} else {
		fe.Msg = strings.TrimPrefix(fe.Msg, "toml: ")
	}
	return fe
}

// duplicateRe reads BurntSushi/toml's message for a key or table given twice.
var duplicateRe = regexp.MustCompile(`^Key '([^']+)' has already been defined\.?$`) // i18n:keep

// mismatchRe reads `type mismatch for store.Setup: expected table but found int64`.
var mismatchRe = regexp.MustCompile(`expected table but found (.+)$`) // i18n:keep

// tomlTypeName names a type from BurntSushi/toml's messages in the file's words.
func tomlTypeName(t string) string {
	switch t {
	case "slice":
		return i18n.T(`a list such as ["attachments"]`)
	case "primitive (string-like)", "string":
		return i18n.T("a string")
	case "int64", "integer":
		return i18n.T("an integer")
	case "float64", "float":
		return i18n.T("a decimal number")
	case "bool", "boolean":
		return i18n.T("true or false")
	case "map[string]any", "map[string]interface {}":
		return i18n.T("a table")
	case "[]map[string]any", "[]map[string]interface {}":
		return i18n.T("an array of tables [[…]]")
	case "time.Time":
		return i18n.T("a date")
	}
	if strings.HasPrefix(t, "[]") {
		return i18n.T("a list")
	}
	return "a " + t
}

// knownKeys maps each table of the profile file to its keys, from the struct tags.
var knownKeys = func() map[string][]string {
	m := map[string][]string{}
	pt := reflect.TypeFor[Profile]()
	for i := range pt.NumField() {
		tf := pt.Field(i)
		table := tf.Tag.Get("toml")
		if table == "-" || tf.Type.Kind() != reflect.Struct {
			continue
		}
		for j := range tf.Type.NumField() {
			m[table] = append(m[table], tf.Type.Field(j).Tag.Get("toml"))
		}
	}
	return m
}()

// unknownKeyMsg says a key is unknown and, when it can, which was meant.
func unknownKeyMsg(k toml.Key) string {
	tables := make([]string, 0, len(knownKeys))
	for t := range knownKeys {
		tables = append(tables, t)
	}
	slices.Sort(tables)
	if len(k) == 1 {
		for _, t := range tables {
			if slices.Contains(knownKeys[t], k[0]) {
				return i18n.Sprintf("unknown key at the top of the file; %q belongs in the [%s] table", k[0], t)
			}
		}
		if s := closest(k[0], tables); s != "" {
			return i18n.Sprintf("unknown table; did you mean [%s]?", s)
		}
		return i18n.Sprintf("unknown table or key; the tables are %s", "["+strings.Join(tables, "], [")+"]")
	}
	keys, ok := knownKeys[k[0]]
	if !ok {
		return i18n.T("unknown key")
	}
	if len(k) > 2 && slices.Contains(keys, k[1]) {
		return i18n.Sprintf("unknown key; %s.%s is a single value, not a table", k[0], k[1])
	}
	// "ca.file" is a dotted key for ca_file; "serch" a misspelt search.
	if s := closest(strings.Join(k[1:], "_"), keys); s != "" {
		return i18n.Sprintf("unknown key; did you mean %q?", s)
	}
	return i18n.Sprintf("unknown key; [%s] has %s", k[0], strings.Join(keys, ", "))
}

// closest returns the candidate within edit distance 2 of s, or "".
func closest(s string, cands []string) string {
	best, bestD := "", 3
	for _, c := range cands {
		if d := editDistance(strings.ToLower(s), c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// LoadProfile reads and validates profile name from HOME/profiles/NAME.toml. A missing
// profile gives an error that wraps fs.ErrNotExist; problems in the file come back as
// *FieldError values with the file's full path.
func LoadProfile(home, name string) (*Profile, error) {
	if err := ValidProfileName(name); err != nil {
		return nil, err
	}
	path := ProfilePath(home, name)
	data, err := readLimited(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, i18n.Errorf("profile %q not found (no %s); see 'mailmover profiles': %w", name, path, err)
	}
	if err != nil {
		return nil, i18n.Errorf("read profile %q: %w", name, err)
	}
	return parseProfile(path, name, data)
}

func readLimited(path string) ([]byte, error) {
	// Check before opening: opening a FIFO blocks until a writer comes, and a signal
	// cannot end that wait.
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, i18n.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, i18n.Errorf("%s is not a regular file", path)
	}
	if st.Size() > MaxProfileSize {
		return nil, i18n.Errorf("%s is %d bytes; a profile is at most %d", path, st.Size(), MaxProfileSize)
	}
	// Read what was opened and checked, bounded (the file may grow meanwhile).
	data, err := io.ReadAll(io.LimitReader(f, MaxProfileSize+1))
	if err == nil && len(data) > MaxProfileSize {
		err = i18n.Errorf("%s is over %d bytes; a profile is at most %d", path, MaxProfileSize, MaxProfileSize)
	}
	return data, err
}

// SaveProfile validates p and writes it to HOME/profiles/NAME.toml atomically: a temporary
// file in the same folder is written and synced, then renamed over the old one, and the
// folder is synced. The file gets mode 0600, the folders 0700. Validation problems come
// back as *FieldError values and nothing is written.
func SaveProfile(home string, p *Profile) error {
	if err := ValidProfileName(p.Name); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		for _, fe := range FieldErrors(err) {
			fe.File = "profiles/" + p.Name + ".toml"
		}
		return err
	}
	data, err := EncodeProfile(p)
	if err != nil {
		return err
	}
	if err := writeAtomic(ProfilePath(home, p.Name), data); err != nil {
		return i18n.Errorf("save profile %q: %w", p.Name, err)
	}
	return nil
}

// writeAtomic writes data to path (mode 0600) through a synced temporary file and a
// rename (durable.WriteFile).
func writeAtomic(path string, data []byte) error {
	if err := durable.WriteFile(path, data, 0o600); err != nil {
		return i18n.Errorf("write %s: %w (check the permissions of %s)", path, err, filepath.Dir(path))
	}
	return nil
}

// syncFolder makes a rename in dir durable; systems that cannot sync a folder are let pass.
func syncFolder(dir string) error {
	if err := durable.SyncDir(dir); err != nil {
		return i18n.Errorf("sync folder %s: %w", dir, err)
	}
	return nil
}

// ListProfiles returns the names of the profiles in HOME/profiles, sorted. Files whose
// names are not valid profile names are left out. A missing folder means no profiles.
func ListProfiles(home string) ([]string, error) {
	entries, err := os.ReadDir(ProfileDir(home))
	if errors.Is(err, fs.ErrNotExist) {
		return []string{}, nil
	}
	if err != nil {
		return nil, i18n.Errorf("list profiles: %w", err)
	}
	names := []string{}
	for _, e := range entries {
		n, ok := strings.CutSuffix(e.Name(), ".toml")
		if !ok || !e.Type().IsRegular() || ValidProfileName(n) != nil {
			continue
		}
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// ProfileExists reports whether HOME/profiles/NAME.toml exists.
func ProfileExists(home, name string) bool {
	if ValidProfileName(name) != nil {
		return false
	}
	_, err := os.Stat(ProfilePath(home, name))
	return err == nil
}

// DeleteProfile removes profile name: its secrets from sec (all kinds; sec may be nil when
// the keyring is not to be touched), its state files, then its profile file. A running
// profile (its state lock held) is refused with an error wrapping ErrStateLocked. When the
// keyring fails nothing is removed, so the call can be repeated. A missing profile file is
// an error wrapping fs.ErrNotExist, after secrets and state are gone.
func DeleteProfile(home, name string, sec Secrets) error {
	if err := ValidProfileName(name); err != nil {
		return err
	}
	unlock, err := holdProfile(home, name, true)
	if err != nil {
		return i18n.Errorf("delete profile %q: %w", name, err)
	}
	defer unlock()
	if sec != nil {
		for _, kind := range SecretKinds {
			if err := sec.Delete(name, kind); err != nil {
				return i18n.Errorf("delete profile %q: %w", name, err)
			}
		}
	}
	for _, f := range []string{StatePath(home, name), JournalPath(home, name)} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return i18n.Errorf("delete profile %q: state: %w", name, err)
		}
	}
	if err := os.Remove(ProfilePath(home, name)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return i18n.Errorf("delete profile %q: not found: %w", name, err)
		}
		return i18n.Errorf("delete profile %q: %w", name, err)
	}
	return syncFolder(ProfileDir(home))
}

// holdProfile takes the mover's lock of a profile, so a running profile is not renamed or
// deleted under its mover (the error then wraps ErrStateLocked). The returned function
// lets go of the lock, and removes the lock file when remove is set (for a name that is
// going away).
func holdProfile(home, name string, remove bool) (func(), error) {
	f, err := lockState(home, name)
	if err != nil {
		return nil, err
	}
	return func() {
		if remove {
			os.Remove(StateLockPath(home, name))
		}
		unlockState(f)
	}, nil
}

// ErrProfileExists is wrapped when a rename or copy would replace another profile.
var ErrProfileExists = i18n.NewError("a profile of that name exists")

// RenameProfile renames profile oldName to newName: the profile file, its state files and
// its secrets in sec (sec may be nil). newName must not exist; a running profile (its
// state lock held) is refused with an error wrapping ErrStateLocked. The secrets are copied
// before the files move and deleted under the old name after, so a failure midway loses
// nothing.
func RenameProfile(home, oldName, newName string, sec Secrets) error {
	if err := ValidProfileName(oldName); err != nil {
		return err
	}
	if err := ValidProfileName(newName); err != nil {
		return err
	}
	if oldName == newName {
		return nil
	}
	oldPath, newPath := ProfilePath(home, oldName), ProfilePath(home, newName)
	if _, err := os.Stat(oldPath); err != nil {
		return i18n.Errorf("rename profile %q: %w", oldName, err)
	}
	if _, err := os.Lstat(newPath); err == nil {
		return i18n.Errorf("rename profile %q to %q: %w", oldName, newName, ErrProfileExists)
	}
	unlock, err := holdProfile(home, oldName, true)
	if err != nil {
		return i18n.Errorf("rename profile %q: %w", oldName, err)
	}
	defer unlock()
	unlockNew, err := holdProfile(home, newName, false)
	if err != nil {
		return i18n.Errorf("rename profile %q to %q: %w", oldName, newName, err)
	}
	defer unlockNew()
	if err := copySecrets(sec, oldName, newName, SecretKinds); err != nil {
		return i18n.Errorf("rename profile %q: %w", oldName, err)
	}
	data, err := readLimited(oldPath)
	if err != nil {
		return i18n.Errorf("rename profile %q: %w", oldName, err)
	}
	if err := writeAtomic(newPath, data); err != nil {
		return i18n.Errorf("rename profile %q: %w", oldName, err)
	}
	for _, f := range []func(string, string) string{StatePath, JournalPath} {
		if err := os.Rename(f(home, oldName), f(home, newName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			os.Remove(newPath)
			return i18n.Errorf("rename profile %q: state: %w", oldName, err)
		}
	}
	if err := os.Remove(oldPath); err != nil {
		return i18n.Errorf("rename profile %q: %w", oldName, err)
	}
	if err := syncFolder(ProfileDir(home)); err != nil {
		return err
	}
	if sec != nil {
		for _, kind := range SecretKinds {
			if err := sec.Delete(oldName, kind); err != nil {
				return i18n.Errorf("renamed profile %q to %q, but its old secrets remain: %w", oldName, newName, err)
			}
		}
	}
	return nil
}

// DuplicateProfile copies profile src to a new profile dst, with its client secret and
// password from sec (sec may be nil). Tokens and state are not copied: a refresh token
// rotates on use, so two profiles sharing one would sign each other out; the copy signs in
// on its own.
func DuplicateProfile(home, src, dst string, sec Secrets) error {
	p, err := LoadProfile(home, src)
	if err != nil {
		return err
	}
	if err := ValidProfileName(dst); err != nil {
		return err
	}
	if _, err := os.Lstat(ProfilePath(home, dst)); err == nil {
		return i18n.Errorf("copy profile %q to %q: %w", src, dst, ErrProfileExists)
	}
	if err := copySecrets(sec, src, dst, []string{SecretClientSecret, SecretPassword}); err != nil {
		return i18n.Errorf("copy profile %q: %w", src, err)
	}
	p.Name = dst
	return SaveProfile(home, p)
}

// copySecrets copies the given kinds of secret from one profile to another.
func copySecrets(sec Secrets, from, to string, kinds []string) error {
	if sec == nil {
		return nil
	}
	for _, kind := range kinds {
		v, err := sec.Get(from, kind)
		if errors.Is(err, ErrNoSecret) {
			continue
		}
		if err != nil {
			return err
		}
		if err := sec.Set(to, kind, v); err != nil {
			return err
		}
	}
	return nil
}
