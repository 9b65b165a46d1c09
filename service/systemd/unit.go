//go:build linux

package systemd

import (
	"fmt"
	"path/filepath"
	"strings"
	"unicode"

	"mailmover/i18n"
)

// UnitName is the name of the unit, system-wide and per user.
const UnitName = "mailmover.service"

// CredentialName is the name of the systemd credential that holds the keyring password
// ($CREDENTIALS_DIRECTORY/keyring-password inside the service); systemd-creds encrypts
// it under this name, and the name is checked when systemd decrypts it.
const CredentialName = "keyring-password"

// ExitConfig is the exit status of 'mailmover service run' when the service cannot work
// until an administrator changes something (no keyring password, a password that does
// not open the keyring, a missing program). The unit does not restart on it
// (RestartPreventExitStatus=), so a wrong password does not loop.
const ExitConfig = 78 // EX_CONFIG from sysexits.h

// Environment variables the unit sets and 'mailmover service run' reads.
const (
	// EnvFront names the front end in the status files ("service").
	EnvFront = "MAILMOVER_FRONT"
	// EnvHome is MailMover's home (store.HomeEnv).
	EnvHome = "MAILMOVER_HOME"
	// EnvDataHome is where the private keyring keeps its files (DataHome/keyrings).
	EnvDataHome = "XDG_DATA_HOME"
	// EnvPasswordFile names a file holding the keyring password: user units, where
	// systemd's credentials are not available before systemd 256.
	EnvPasswordFile = "MAILMOVER_KEYRING_PASSWORD_FILE"
	// EnvPasswordFD names an inherited file descriptor to read the password from
	// ('mailmover service shell' hands it over through a pipe).
	EnvPasswordFD = "MAILMOVER_KEYRING_PASSWORD_FD"
)

// CredentialKind says where the service gets the keyring password from.
type CredentialKind int

const (
	// CredEncrypted is LoadCredentialEncrypted= from a file made by 'systemd-creds
	// encrypt': encrypted with the host key in /var/lib/systemd/credential.secret
	// and, where there is one, the TPM2.
	CredEncrypted CredentialKind = iota
	// CredFile is LoadCredential= from a file only root may read: not encrypted.
	CredFile
	// CredUserFile is a user unit's 0600 file named by MAILMOVER_KEYRING_PASSWORD_FILE.
	CredUserFile
)

// Config is what the unit is made of.
type Config struct {
	// User makes a user unit (~/.config/systemd/user, runs as the user who installs
	// it) instead of a system-wide one.
	User bool
	// UserName is the account a system-wide unit runs as (User=, Group=).
	UserName string
	// Home is MAILMOVER_HOME: profiles, state, status and logs.
	Home string
	// DataHome is the keyring's XDG_DATA_HOME (its files in DataHome/keyrings).
	DataHome string
	// Binary is the absolute path of the mailmover program.
	Binary string
	// Credential and CredentialPath: where the keyring password comes from.
	Credential     CredentialKind
	CredentialPath string
	// WritePaths are the folders the mover writes to besides Home: the profiles'
	// destination folders (ReadWritePaths= of a system unit).
	WritePaths []string
	// UnitDir is the folder the unit file goes to.
	UnitDir string
}

// UnitPath is the unit file's path.
func (c Config) UnitPath() string { return filepath.Join(c.UnitDir, UnitName) }

// stateDirectory returns the StateDirectory= name when Home is a folder under
// /var/lib, so systemd creates it and hands it to the service's user.
func (c Config) stateDirectory() (string, bool) {
	rel, ok := strings.CutPrefix(filepath.Clean(c.Home), "/var/lib/")
	if !ok || rel == "" || strings.Contains(rel, "/") {
		return "", false
	}
	return rel, true
}

// check refuses paths a unit file cannot carry safely.
func (c Config) check() error {
	paths := append([]string{c.Binary, c.Home, c.DataHome}, c.WritePaths...)
	if c.Credential != CredUserFile || c.CredentialPath != "" {
		paths = append(paths, c.CredentialPath)
	}
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			return i18n.Errorf("%q is not an absolute path", p)
		}
		for _, r := range p {
			if unicode.IsControl(r) {
				return i18n.Errorf("the path %q holds a control character, which a unit file cannot carry", p)
			}
		}
	}
	if !c.User && c.UserName == "" {
		return i18n.Errorf("a system-wide service needs the name of the account it runs as")
	}
	return nil
}

// quote writes a word of a unit file: % is doubled (systemd's specifiers), and a word
// with a blank, a quote or a backslash is put in double quotes with C escapes.
func quote(s string) string {
	s = strings.ReplaceAll(s, "%", "%%")
	if !strings.ContainsAny(s, " \t\"'\\;") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// Unit returns the unit file's text. It holds no secret: the keyring password comes
// from the credential at start.
func (c Config) Unit() (string, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	var b strings.Builder
	line := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	env := func(k, v string) { line("Environment=%s", quote(k+"="+v)) }

	line("# Written by 'mailmover service install'; changes here are lost when it runs again.") // i18n:keep (a unit file is English)
	line("# It runs 'mailmover run -all' with a private keyring unlocked by the credential")    // i18n:keep
	line("# %s; the unit holds no secret.", CredentialName)                                     // i18n:keep
	if !c.User {
		line("# The destination folders below were read from the profiles at install time:")            // i18n:keep
		line("# after adding a profile with a new destination, run 'mailmover service install' again.") // i18n:keep
	}
	line("")
	line("[Unit]")
	line("Description=MailMover: moves mail from IMAP mailboxes into folders (all profiles)") // i18n:keep
	if !c.User {
		line("Wants=network-online.target")
		line("After=network-online.target")
	}
	line("StartLimitIntervalSec=30min")
	line("StartLimitBurst=5")
	line("")
	line("[Service]")
	line("Type=exec")
	if !c.User {
		line("User=%s", quote(c.UserName))
		line("Group=%s", quote(c.UserName))
	}
	line("ExecStart=%s service run", quote(c.Binary)) // i18n:keep (the command line)
	env(EnvFront, "service")
	env(EnvHome, c.Home)
	env(EnvDataHome, c.DataHome)
	switch c.Credential {
	case CredEncrypted:
		line("LoadCredentialEncrypted=%s:%s", CredentialName, quote(c.CredentialPath))
	case CredFile:
		line("LoadCredential=%s:%s", CredentialName, quote(c.CredentialPath))
	case CredUserFile:
		env(EnvPasswordFile, c.CredentialPath)
	}
	// The private bus's socket and the keyring's control socket ($RUNTIME_DIRECTORY).
	line("RuntimeDirectory=mailmover")
	line("RuntimeDirectoryMode=0700")
	state, isState := c.stateDirectory()
	if !c.User && isState {
		line("StateDirectory=%s", quote(state))
		line("StateDirectoryMode=0700")
	}
	line("Restart=on-failure")
	line("RestartSec=30s")
	line("RestartPreventExitStatus=%d", ExitConfig)
	// SIGTERM to the mover only: it finishes the file in hand, then stops the keyring
	// and the bus it started; what is left after it is killed.
	line("KillMode=mixed")
	line("KillSignal=SIGTERM")
	line("TimeoutStopSec=5min")
	line("StandardOutput=journal")
	line("StandardError=journal")
	line("SyslogIdentifier=mailmover")
	line("NoNewPrivileges=yes")
	if !c.User {
		line("ProtectSystem=strict")
		line("ProtectHome=read-only")
		var rw []string
		if !isState {
			rw = append(rw, quote(c.Home))
		}
		if !strings.HasPrefix(filepath.Clean(c.DataHome)+"/", filepath.Clean(c.Home)+"/") {
			rw = append(rw, quote(c.DataHome))
		}
		for _, p := range c.WritePaths {
			rw = append(rw, quote("-"+p)) // "-": a folder removed later does not stop the unit
		}
		if len(rw) > 0 {
			line("ReadWritePaths=%s", strings.Join(rw, " "))
		}
		line("PrivateTmp=yes")
		line("PrivateDevices=yes")
		line("ProtectKernelTunables=yes")
		line("ProtectKernelModules=yes")
		line("ProtectKernelLogs=yes")
		line("ProtectControlGroups=yes")
		line("ProtectClock=yes")
		line("ProtectHostname=yes")
		line("RestrictSUIDSGID=yes")
		line("RestrictRealtime=yes")
		line("RestrictNamespaces=yes")
		line("LockPersonality=yes")
		line("RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6") // i18n:keep
		line("SystemCallArchitectures=native")
		line("CapabilityBoundingSet=")
	}
	line("")
	line("[Install]")
	if c.User {
		line("WantedBy=default.target")
	} else {
		line("WantedBy=multi-user.target")
	}
	return b.String(), nil
}
