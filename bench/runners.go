package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"mailmover/store"
)

// Job is one prepared run of a client: the command, and how to check what it wrote.
type Job struct {
	Argv   []string
	Env    []string
	Verify func() (string, error) // a short verdict, e.g. "2000 msgs" or "ok: 4012 files"
}

// Runner prepares a cold run of one client in a fresh folder.
type Runner struct {
	Name    string
	Prepare func(dir string) (*Job, error)
}

// Env is what the runners need to know.
type Env struct {
	Server    Server
	Folder    string // the seeded folder
	Manifest  *Manifest
	Mailmover string // path of the mailmover binary
	// Before, when set, is another mailmover binary (an earlier build) run as the
	// runner "mailmover-before": a before/after comparison within one run.
	Before  string
	Self    string // path of mm-bench (for the upper bound)
	Batch   int    // upper bound: messages per FETCH
	BaseEnv []string
}

// Profile returns the benchmark profile of mailmover: password sign-in over implicit TLS
// to the bench server, every message of folder, attachments into dest, no post-action.
func (e *Env) Profile(name, folder, dest string) *store.Profile {
	p := store.DefaultProfile(name)
	p.Setup.Host, p.Setup.Port, p.Setup.Username, p.Setup.Folder = e.Server.Host, e.Server.Port, e.Server.User, folder
	p.Security.TLS, p.Security.Auth, p.Security.VerifyCertificate, p.Security.CAFile = store.TLSImplicit, store.AuthPassword, true, e.Server.CAFile
	p.Common.Search, p.Common.After, p.Common.Save = store.SearchAll, store.AfterNone, []string{store.SaveAttachments}
	p.Destination.Folder = dest
	return p
}

// WriteProfile saves p under home (MAILMOVER_HOME).
func WriteProfile(home string, p *store.Profile) error {
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	if err := store.SaveProfile(home, p); err != nil {
		return fmt.Errorf("saving the bench profile: %w", err)
	}
	return nil
}

// Runners returns the clients in their default order.
func (e *Env) Runners() []Runner {
	return []Runner{
		{"mailmover", func(dir string) (*Job, error) { return e.prepMailmoverBin(dir, e.Mailmover) }},
		{"mailmover-before", func(dir string) (*Job, error) { return e.prepMailmoverBin(dir, e.Before) }},
		{"mbsync", e.prepMbsync},
		{"offlineimap", e.prepOfflineimap},
		{"fetchmail", e.prepFetchmail},
		{"upper-bound", e.prepUpper},
	}
}

func (e *Env) prepMailmoverBin(dir, bin string) (*Job, error) {
	if bin == "" {
		return nil, fmt.Errorf("no mailmover binary for this runner (mm-bench -before)")
	}
	home, dest := filepath.Join(dir, "home"), filepath.Join(dir, "dest")
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return nil, err
	}
	if err := WriteProfile(home, e.Profile("bench", e.Folder, dest)); err != nil {
		return nil, err
	}
	env := append(append([]string{}, e.BaseEnv...), store.HomeEnv+"="+home)
	return &Job{
		Argv: []string{bin, "run", "-profile", "bench", "-once"},
		Env:  env,
		Verify: func() (string, error) {
			dc, err := CheckDest(dest, e.Manifest)
			if err != nil {
				return "", err
			}
			v := fmt.Sprintf("%d files, lost %d, dup %d", dc.Files, dc.Lost, dc.Duplicated)
			if dc.Lost+dc.Duplicated+dc.Extra+dc.Temps > 0 {
				return v, fmt.Errorf("mailmover: %s, extra %d, temps %d", v, dc.Extra, dc.Temps)
			}
			return v, nil
		},
	}, nil
}

// countMsgs checks that a peer wrote one file per message.
func (e *Env) countMsgs(name string, dirs ...string) func() (string, error) {
	return func() (string, error) {
		total := 0
		var bytes int64
		for _, d := range dirs {
			n, b, err := CountFiles(d)
			if err != nil && !os.IsNotExist(err) {
				return "", err
			}
			total += n
			bytes += b
		}
		v := fmt.Sprintf("%d msgs, %.0f MB", total, float64(bytes)/1e6)
		if total != e.Manifest.Spec.N {
			return v, fmt.Errorf("%s wrote %d messages, want %d", name, total, e.Manifest.Spec.N)
		}
		return v, nil
	}
}

func writeConf(path, text string) error {
	return os.WriteFile(path, []byte(text), 0o600)
}

func (e *Env) prepMbsync(dir string) (*Job, error) {
	md := filepath.Join(dir, "maildir")
	if err := os.MkdirAll(md, 0o700); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "mbsyncrc")
	// mbsync rejects IP addresses in certificate SANs: it is pointed at localhost.
	text := fmt.Sprintf(`IMAPAccount bench
Host localhost
Port %d
User %s
Pass %s
SSLType IMAPS
CertificateFile %s

IMAPStore remote
Account bench

MaildirStore local
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel bench
Far :remote:%s
Near :local:%s
Create Near
Sync Pull
Expunge None
`, e.Server.Port, e.Server.User, e.Server.Password, e.Server.CAFile, md, md, e.Folder, e.Folder)
	if err := writeConf(conf, text); err != nil {
		return nil, err
	}
	box := filepath.Join(md, e.Folder)
	return &Job{
		Argv:   []string{"mbsync", "-c", conf, "-q", "bench"},
		Env:    append(append([]string{}, e.BaseEnv...), "HOME="+dir),
		Verify: e.countMsgs("mbsync", filepath.Join(box, "cur"), filepath.Join(box, "new")),
	}, nil
}

func (e *Env) prepOfflineimap(dir string) (*Job, error) {
	md := filepath.Join(dir, "maildir")
	if err := os.MkdirAll(md, 0o700); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "offlineimaprc")
	text := fmt.Sprintf(`[general]
accounts = bench
metadata = %s/meta
ui = quiet

[Account bench]
localrepository = local
remoterepository = remote

[Repository local]
type = Maildir
localfolders = %s

[Repository remote]
type = IMAP
remotehost = localhost
remoteport = %d
ssl = yes
sslcacertfile = %s
remoteuser = %s
remotepass = %s
readonly = True
folderfilter = lambda f: f == %s
`, dir, md, e.Server.Port, e.Server.CAFile, e.Server.User, e.Server.Password, strconv.Quote(e.Folder))
	if err := writeConf(conf, text); err != nil {
		return nil, err
	}
	box := filepath.Join(md, e.Folder)
	return &Job{
		Argv:   []string{"offlineimap", "-c", conf, "-o", "-u", "quiet"},
		Env:    append(append([]string{}, e.BaseEnv...), "HOME="+dir),
		Verify: e.countMsgs("offlineimap", filepath.Join(box, "cur"), filepath.Join(box, "new")),
	}, nil
}

func (e *Env) prepFetchmail(dir string) (*Job, error) {
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o700); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "fetchmailrc")
	// One file per message through an MDA, as a procmail/maildrop delivery would do.
	// fetchmail rejects IP addresses in certificate SANs: it is pointed at localhost.
	text := fmt.Sprintf(`set no bouncemail
set no syslog
poll localhost protocol IMAP port %d
  user "%s" there with password "%s" is "root" here
  ssl sslcertck sslcertfile "%s"
  folder "%s"
  fetchall keep
  mda "cat > %s/msg.$$"
`, e.Server.Port, e.Server.User, e.Server.Password, e.Server.CAFile, e.Folder, out)
	if err := writeConf(conf, text); err != nil {
		return nil, err
	}
	return &Job{
		Argv:   []string{"fetchmail", "-f", conf, "-N", "--nosyslog", "-s", "--pidfile", filepath.Join(dir, "fetchmail.pid")},
		Env:    append(append([]string{}, e.BaseEnv...), "HOME="+dir, "FETCHMAILHOME="+dir),
		Verify: e.countMsgs("fetchmail", out),
	}, nil
}

func (e *Env) prepUpper(dir string) (*Job, error) {
	res := filepath.Join(dir, "upper.out")
	return &Job{
		Argv: []string{e.Self, "upper", "-folder", e.Folder, "-batch", strconv.Itoa(e.Batch), "-o", res},
		Env:  e.BaseEnv,
		Verify: func() (string, error) {
			b, err := os.ReadFile(res)
			if err != nil {
				return "", err
			}
			v := strings.TrimSpace(string(b))
			if !strings.HasPrefix(v, strconv.Itoa(e.Manifest.Spec.N)+" msgs") {
				return v, fmt.Errorf("upper bound fetched %s, want %d messages", v, e.Manifest.Spec.N)
			}
			return v, nil
		},
	}, nil
}
