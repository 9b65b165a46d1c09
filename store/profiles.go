package store

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"mailmover/i18n"
	"mailmover/internal/durable"
)

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

// DuplicateProfile copies profile src to a new profile dst, with its client secret,
// password, client certificate and service-account key from sec (sec may be nil). Tokens and state are not copied: a refresh token
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
	if err := copySecrets(sec, src, dst, []string{SecretClientSecret, SecretPassword, SecretClientCertificate, SecretServiceAccount}); err != nil {
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
