package testenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// WineEnv is Wine with a private prefix and the Windows build of MailMover, which
// `make test` makes before the tests (scripts/build-windows.sh, scripts/wine-prefix.sh:
// MM_WINE, MM_WINE_PREFIX, MM_WINDOWS_BIN).
type WineEnv struct {
	// Loader is Wine's wine64 loader (Debian keeps it off PATH, in /usr/lib/wine).
	Loader string
	// Prefix is the private WINEPREFIX, with the bcryptprimitives.dll stand-in that Go
	// programs need under Wine 8 (testenv/wine/).
	Prefix string
	// Bin is the folder of mailmover.exe and mailmover-cli.exe.
	Bin string
	// MSI is the installer (dist/mailmover-VERSION-x64.msi), "" when not built.
	MSI string
}

// Wine returns the Wine environment, or skips the test (fails under MM_REQUIRE_REAL=1)
// when there is none.
func Wine(t testing.TB) WineEnv {
	t.Helper()
	v := need(t, "Wine and the Windows build", "MM_WINE", "MM_WINE_PREFIX", "MM_WINDOWS_BIN")
	return WineEnv{Loader: v[0], Prefix: v[1], Bin: v[2], MSI: os.Getenv("MM_WINDOWS_MSI")}
}

// Env is the environment of a Windows program under this Wine: the test's own plus the
// prefix, no Wine debug output, no Mono/Gecko installer prompts, then extra.
func (w WineEnv) Env(extra ...string) []string {
	env := append(os.Environ(), "WINEPREFIX="+w.Prefix, "WINEDEBUG=-all", "WINEDLLOVERRIDES=mscoree,mshtml=")
	return append(env, extra...)
}

// Command runs the Windows program exe (a name in Bin, or a Windows path) under Wine.
func (w WineEnv) Command(ctx context.Context, exe string, args ...string) *exec.Cmd {
	if !strings.ContainsAny(exe, `/\`) {
		exe = filepath.Join(w.Bin, exe)
	}
	cmd := exec.CommandContext(ctx, w.Loader, append([]string{exe}, args...)...)
	cmd.Env = w.Env()
	return cmd
}

// ServerCommand runs Wine's wineserver (next to the loader) for this prefix with args:
// -w waits until the prefix's programs have ended, -k ends them, -p keeps the server.
func (w WineEnv) ServerCommand(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(filepath.Dir(w.Loader), "wineserver"), args...)
	cmd.Env = w.Env()
	return cmd
}

// DriveC returns the Linux path of the prefix's C: drive.
func (w WineEnv) DriveC() string { return filepath.Join(w.Prefix, "drive_c") }

// WinPath turns an absolute Linux path into the Windows path Wine gives it (drive Z: is
// the Linux root): /tmp/x → Z:\tmp\x.
func WinPath(p string) string { return `Z:` + strings.ReplaceAll(p, "/", `\`) }
