package cli

import (
	"runtime"

	"mailmover/i18n"
)

// displayProblem says why no window can open here, or "" when one can. On Linux and the
// BSDs a window needs an X11 or Wayland display; without one Fyne's GL driver panics, so
// the commands that open the window check first and point at the headless commands.
func displayProblem(getenv func(string) string) string {
	switch runtime.GOOS {
	case "windows", "darwin", "android", "ios", "js":
		return ""
	}
	if getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != "" {
		return ""
	}
	return i18n.T("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are not set). On a server use the headless commands: 'mailmover run -profile P', 'mailmover check -profile P', 'mailmover login -profile P -device', 'mailmover demo -headless'; or run the window over X11 forwarding (ssh -X).")
}
