package auth

import (
	"errors"
	"io"
	"os"
	"runtime"

	"mailmover/i18n"
	"mailmover/store"
)

// maxKeyFile bounds what is read of a key file (a PEM key with its certificate chain, a
// service account's JSON key): far more than any real one.
const maxKeyFile = 64 << 10

// readKeyFile reads a private key file named in a profile (field is the profile key,
// e.g. "client_certificate_file"). On Unix it refuses a file that its group or others
// may read or write, as ssh does for its keys: such a key must be taken as known to others.
// (On Windows the file's ACL decides; it is not checked here.)
func readKeyFile(profile, field, path string) ([]byte, error) {
	p, err := store.ExpandPath(path)
	if err != nil {
		return nil, &ConfigError{Profile: profile, Field: field, Reason: err.Error()}
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, &ConfigError{Profile: profile, Field: field, Reason: i18n.Sprintf("cannot open %s: %v", p, err)}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &ConfigError{Profile: profile, Field: field, Reason: i18n.Sprintf("cannot read %s: %v", p, err)}
	}
	if !fi.Mode().IsRegular() {
		return nil, &ConfigError{Profile: profile, Field: field, Reason: i18n.Sprintf("%s is not a regular file", p)}
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, &ConfigError{Profile: profile, Field: field,
			Reason: i18n.Sprintf("%s holds a private key but may be read by others (mode %04o): run 'chmod 600 %s' (and make the user that runs MailMover its owner)", p, fi.Mode().Perm(), p)}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, &ConfigError{Profile: profile, Field: field, Reason: i18n.Sprintf("cannot read %s: %v", p, err)}
	}
	if len(data) > maxKeyFile {
		return nil, &ConfigError{Profile: profile, Field: field, Reason: i18n.Sprintf("%s is larger than %d bytes: not a key file", p, maxKeyFile)}
	}
	return data, nil
}

// appCredential returns a profile's app credential: the file named by fileField (path)
// when set, else the keyring entry of kind. missing is the error when neither holds one.
func appCredential(profile string, sec store.Secrets, kind, fileField, path string, missing error) ([]byte, error) {
	if path != "" {
		return readKeyFile(profile, fileField, path)
	}
	if sec == nil {
		return nil, missing
	}
	v, err := sec.Get(profile, kind)
	if errors.Is(err, store.ErrNoSecret) {
		return nil, missing
	}
	if err != nil {
		return nil, i18n.Errorf("reading the %s of profile %q: %w", kind, profile, err)
	}
	return []byte(v), nil
}

// LoadClientCertificate reads the private key and certificate of a profile with
// client_auth = "certificate": from client_certificate_file when set, else from the
// keyring (store.SecretClientCertificate). Errors never hold the key.
func LoadClientCertificate(profile string, o store.OAuth2, sec store.Secrets) (*ClientCertificate, error) {
	data, err := appCredential(profile, sec, store.SecretClientCertificate, "client_certificate_file", o.ClientCertificateFile,
		missingCertificate(profile))
	if err != nil {
		return nil, err
	}
	c, err := ParseClientCertificate(data)
	if err != nil {
		field := store.SecretClientCertificate
		if o.ClientCertificateFile != "" {
			field = "client_certificate_file"
		}
		return nil, &ConfigError{Profile: profile, Field: field, Reason: err.Error()}
	}
	return c, nil
}

// profileOr is the profile's name for a command in advice, or the placeholder PROFILE
// when it is not known.
func profileOr(profile string) string {
	if profile == "" {
		return "PROFILE" // i18n:keep (a placeholder)
	}
	return profile
}
