//go:build linux

package systemd

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"path/filepath"
	"time"

	"mailmover/i18n"
)

// NewPassword returns a random keyring password (256 bits, base64url).
func NewPassword() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return []byte(base64.RawURLEncoding.EncodeToString(b))
}

// CredentialExists reports whether the credential of c exists.
func (h Host) CredentialExists(c Config) bool { return exists(h.credPath(c)) }

// credPath is the credential's file on this host (under Root for system paths).
func (h Host) credPath(c Config) string {
	if c.Credential == CredUserFile {
		return c.CredentialPath
	}
	return h.path(c.CredentialPath)
}

// keyringFile is the keyring the service unlocks.
func (c Config) keyringFile() string { return filepath.Join(c.DataHome, "keyrings", "login.keyring") }

// MakeCredential writes a new random keyring password as c's credential and says what
// it did on out. An existing credential is kept unless force; with force an existing
// keyring (which the old password locks) is moved aside, so the secrets must be put in
// again. For CredEncrypted it runs 'systemd-creds encrypt' (the password on its
// standard input); when that fails and c's kind was chosen automatically (auto), it
// falls back to the plain root-only file and says what that means. It returns the
// Config with the kind that was written.
func (h Host) MakeCredential(c Config, force, auto bool, out io.Writer) (Config, error) {
	if h.CredentialExists(c) && !force {
		i18n.Fprintf(out, "The keyring password is already set up: %s (kept; --force makes a new one and starts a new, empty keyring)\n", h.credPath(c))
		return c, nil
	}
	if !c.User && h.Euid != 0 {
		return c, errNotRoot()
	}
	if force && exists(c.keyringFile()) {
		aside := c.keyringFile() + ".old-" + time.Now().Format("20060102-150405")
		if err := os.Rename(c.keyringFile(), aside); err != nil {
			return c, err
		}
		i18n.Fprintf(out, "The keyring made with the old password was moved to %s; put the secrets in again with 'mailmover service shell'.\n", aside)
	}
	pw := NewPassword()
	defer clear(pw)
	switch c.Credential {
	case CredEncrypted:
		err := h.encrypt(c, pw)
		if err == nil {
			i18n.Fprintf(out, "Made a new keyring password, encrypted with systemd-creds (the host key in /var/lib/systemd/credential.secret, and the TPM2 where there is one): %s\n", h.credPath(c))
			return c, nil
		}
		if !auto {
			return c, err
		}
		i18n.Fprintf(out, "systemd-creds could not encrypt the password (%v); falling back to a file only root may read.\n", err)
		c.Credential, c.CredentialPath = CredFile, plainCredPath
		fallthrough
	case CredFile:
		if err := writeSecretFile(h.credPath(c), pw); err != nil {
			return c, err
		}
		i18n.Fprintf(out, "Made a new keyring password in %s (mode 0600, root only). It is not encrypted: whoever can read that file as root, or reads the disk, can open the keyring with it. With systemd-creds (systemd 250 or later), ideally with a TPM2, it would be encrypted for this machine: run 'mailmover service keyring-password --credential encrypted --force' where that is available.\n", h.credPath(c))
	case CredUserFile:
		if err := writeSecretFile(c.CredentialPath, pw); err != nil {
			return c, err
		}
		i18n.Fprintf(out, "Made a new keyring password in %s (mode 0600, only you may read it). User units cannot use systemd's encrypted credentials before systemd 256, so the password is protected by the file's permissions: whoever can read your files can open the keyring.\n", c.CredentialPath)
	}
	return c, nil
}

// encrypt runs systemd-creds encrypt with the password on standard input.
func (h Host) encrypt(c Config, pw []byte) error {
	path := h.credPath(c)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".new"
	if _, err := h.Run(pw, "systemd-creds", "encrypt", "--name="+CredentialName, "-", tmp); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// writeSecretFile writes data to path with mode 0600 (its folder 0700), atomically.
func writeSecretFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".keyring-password-")
	if err != nil {
		return err
	}
	_, werr := f.Write(data)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path) // CreateTemp made it 0600
}

// ReadCredential returns the keyring password as the unit would get it: decrypted with
// 'systemd-creds decrypt' for CredEncrypted, read from the file otherwise. Used by
// 'mailmover service shell'; the caller clears it.
func (h Host) ReadCredential(c Config) ([]byte, error) {
	path := h.credPath(c)
	if !exists(path) {
		return nil, configErr(i18n.Errorf("no keyring password at %s: run 'mailmover service keyring-password%s' (or 'mailmover service install%s') first", path, userFlag(c), userFlag(c)))
	}
	if c.Credential == CredEncrypted {
		out, err := h.Run(nil, "systemd-creds", "decrypt", "--name="+CredentialName, path, "-")
		if err != nil {
			clear(out)
			return nil, i18n.Errorf("%w (run this as root on the machine that encrypted %s)", err, path)
		}
		return out, nil
	}
	if !c.User && h.Euid != 0 {
		return nil, errNotRoot()
	}
	return os.ReadFile(path)
}

func userFlag(c Config) string {
	if c.User {
		return " --user"
	}
	return ""
}

func errNotRoot() error {
	return i18n.Errorf("a system-wide service needs root: run it with sudo, or add --user for a service of your own account (it runs without a login once 'loginctl enable-linger' is on)")
}
