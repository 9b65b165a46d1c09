package auth

import (
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"mailmover/i18n"
)

// browserSettle is how long an opener may take to fail before it counts as started.
const browserSettle = 2 * time.Second

// SystemBrowser returns the command line's browser opener. It tries $BROWSER first (read
// with getenv): a ':'-separated list of commands tried in order, where "%s" in a command
// is replaced by the URL and otherwise the URL is appended as the last argument (%% is a
// literal %). Without $BROWSER it uses the desktop's opener: xdg-open (Linux, BSD), open
// (macOS) or rundll32 url.dll,FileProtocolHandler (Windows). The URL is always one
// argument of its own; no shell is involved. A command counts as failed when it cannot
// start or exits non-zero within two seconds.
func SystemBrowser(getenv func(string) string) func(url string) error {
	return func(url string) error {
		var cands [][]string
		if b := strings.TrimSpace(getenv("BROWSER")); b != "" {
			for _, entry := range strings.Split(b, ":") {
				if argv := browserArgv(entry, url); argv != nil {
					cands = append(cands, argv)
				}
			}
		} else {
			switch runtime.GOOS {
			case "darwin":
				cands = [][]string{{"open", url}}
			case "windows":
				cands = [][]string{{"rundll32", "url.dll,FileProtocolHandler", url}} // i18n:keep
			default:
				cands = [][]string{{"xdg-open", url}}
			}
		}
		if len(cands) == 0 {
			return i18n.New("$BROWSER names no command")
		}
		var errs []error
		for _, argv := range cands {
			err := runOpener(argv)
			if err == nil {
				return nil
			}
			errs = append(errs, fmt.Errorf("%s: %w", argv[0], err))
		}
		return i18n.Errorf("no browser could be opened (%w); set $BROWSER to a browser command", errors.Join(errs...))
	}
}

// browserArgv builds the argv of one $BROWSER entry, or nil for an empty one.
func browserArgv(entry, url string) []string {
	fields := strings.Fields(entry)
	if len(fields) == 0 {
		return nil
	}
	replaced := false
	argv := make([]string, 0, len(fields)+1)
	for _, f := range fields {
		if strings.Contains(f, "%s") {
			replaced = true
		}
		var b strings.Builder
		for i := 0; i < len(f); i++ {
			if f[i] == '%' && i+1 < len(f) {
				switch f[i+1] {
				case 's':
					b.WriteString(url)
					i++
					continue
				case '%':
					b.WriteByte('%')
					i++
					continue
				}
			}
			b.WriteByte(f[i])
		}
		argv = append(argv, b.String())
	}
	if !replaced {
		argv = append(argv, url)
	}
	return argv
}

// runOpener starts argv; it fails when the command cannot start or exits non-zero within
// browserSettle. A browser still running after that counts as opened (it is reaped in the
// background).
func runOpener(argv []string) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t := time.NewTimer(browserSettle)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return nil
	}
}
