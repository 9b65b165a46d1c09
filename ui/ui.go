// Package ui is MailMover's window: one file per tab, the actions (GET, Save, Check,
// Start, Stop) and the live transfer log. It only renders state and calls narrow
// interfaces (Backend); the work happens in auth, store, imapsrc and mover. Goroutines
// reach widgets only through bridge.go (fyne.Do).
package ui

import (
	"context"
	"flag"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/assets"
	"mailmover/store"
)

// AppID is the application ID, as in FyneApp.toml.
const AppID = "io.github.mailmover"

// Preference keys of the window.
const (
	prefWidth  = "window.width"
	prefHeight = "window.height"
)

// Options are the window's settings that do not come from the command line.
type Options struct {
	// Secrets is where passwords and tokens are kept; nil means the OS keyring
	// (store.Keyring). `mailmover demo` passes its in-memory store when there is no
	// Secret Service, so that GET can store the tokens and Start can use them.
	Secrets store.Secrets
	// Context, when set, closes the window when it is done (SIGINT or SIGTERM from the
	// command line): a running mover finishes the file in hand first.
	Context context.Context
}

// Main opens the window and blocks until it is closed; it returns the exit code. args
// may hold -profile NAME (the profile to show first) and -demo (the window runs on
// `mailmover demo`'s built-in servers; a banner says so).
func Main(args []string, opts Options) int {
	InstallTranslator()
	fs := flag.NewFlagSet("mailmover", flag.ContinueOnError)
	profile := fs.String("profile", "", "the profile to show first")
	demo := fs.Bool("demo", false, "the window runs on the built-in demo servers")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	a := app.NewWithID(AppID)
	applyLanguage(a.Preferences().String(prefLanguage))
	icon := fyne.NewStaticResource("icon.png", assets.IconPNG())
	a.SetIcon(icon)
	w := a.NewWindow(lang.L("MailMover"))
	v := create(a, w, opts)
	if *profile != "" {
		v.profiles.reload(*profile)
		v.selectTab("setup")
	}
	content := v.root
	if *demo {
		content = container.NewBorder(demoBanner(), nil, nil, nil, v.root)
	}
	w.SetContent(content)
	w.Resize(windowSize(a))
	w.SetMaster()
	if shot := screenshotFromEnv(); shot != nil {
		go shot.run(v)
	}
	if opts.Context != nil {
		stop := context.AfterFunc(opts.Context, func() { fyne.Do(func() { v.stopAll(v.quit) }) })
		defer stop()
	}
	w.ShowAndRun()
	v.cancel()
	return 0
}

// demoBanner tells the user that the window runs on the built-in demo.
func demoBanner() fyne.CanvasObject {
	l := widget.NewLabel(lang.L("Demo: the IMAP and sign-in servers run inside MailMover on loopback. ") +
		lang.L("Click GET on the OAuth2 tab (the login page shows the demo user), then Start."))
	l.Wrapping = fyne.TextWrapWord
	l.Importance = widget.HighImportance
	return container.NewBorder(nil, widget.NewSeparator(), widget.NewIcon(theme.InfoIcon()), nil, l)
}

// windowSize is the remembered window size, or a default that fits the form.
func windowSize(a fyne.App) fyne.Size {
	p := a.Preferences()
	w := p.FloatWithFallback(prefWidth, 980)
	h := p.FloatWithFallback(prefHeight, 720)
	if w < 640 || h < 480 {
		w, h = 980, 720
	}
	return fyne.NewSize(float32(w), float32(h))
}

// rememberSize stores the window size for the next start.
func (v *view) rememberSize() {
	s := v.win.Canvas().Size()
	if s.Width >= 640 && s.Height >= 480 {
		v.app.Preferences().SetFloat(prefWidth, float64(s.Width))
		v.app.Preferences().SetFloat(prefHeight, float64(s.Height))
	}
}

// setupDesktop installs the close question and, on desktops, the system tray menu.
func (v *view) setupDesktop(icon fyne.Resource) {
	v.win.SetCloseIntercept(v.onClose)
	if d, ok := v.app.(desktop.App); ok {
		v.tray = d
		if icon != nil {
			d.SetSystemTrayIcon(icon)
		}
		v.updateTray()
	}
}

// onClose asks, while movers run, whether to stop them or keep them running in the tray.
func (v *view) onClose() {
	v.rememberSize()
	if !v.running() {
		v.quit()
		return
	}
	msg := widget.NewLabel(v.runningSentence() + "\n" +
		lang.L("Stop it and quit, or keep it running in the system tray?"))
	if len(v.runs) > 1 {
		msg.SetText(v.runningSentence() + "\n" + lang.L("Stop them and quit, or keep them running in the system tray?"))
	}
	msg.Wrapping = fyne.TextWrapWord
	var d *dialog.CustomDialog
	stop := widget.NewButton(lang.L("Stop and quit"), func() {
		d.Hide()
		v.stopAll(v.quit)
	})
	keep := widget.NewButton(lang.L("Keep running in the tray"), func() {
		d.Hide()
		v.win.Hide()
	})
	keep.Importance = widget.HighImportance
	cancel := widget.NewButton(lang.L("Cancel"), func() { d.Hide() })
	if v.tray == nil {
		keep.Disable()
	}
	d = dialog.NewCustomWithoutButtons(lang.L("Quit MailMover?"), msg, v.win)
	d.SetButtons([]fyne.CanvasObject{cancel, stop, keep})
	d.Resize(fyne.NewSize(520, 0))
	d.Show()
	v.lastDialog = msg.Text
}

// quit closes the window and ends the program.
func (v *view) quit() {
	v.cancel()
	v.app.Quit()
}

// setTrayState shows the worst state of the profiles that run (in this window or in
// another process) in the tray icon: the app icon while all is well, a retry sign while
// a connection is retried, a pause sign while one waits for the user, an error sign
// after an error.
func (v *view) setTrayState(s rowSeverity) {
	if s == v.trayState {
		return
	}
	v.trayState = s
	if v.tray == nil {
		return
	}
	icon := severityIcon(s)
	if icon == nil {
		icon = v.app.Icon()
	}
	v.tray.SetSystemTrayIcon(icon)
}

// severityIcon is the tray icon of a state; nil for all well (the app's icon).
func severityIcon(s rowSeverity) fyne.Resource {
	switch s {
	case severityRetrying:
		return theme.NewWarningThemedResource(theme.ViewRefreshIcon())
	case severityPaused:
		return theme.NewWarningThemedResource(theme.MediaPauseIcon())
	case severityError:
		return theme.NewErrorThemedResource(theme.ErrorIcon())
	}
	return nil
}

// updateTray refreshes the tray menu: Show, Start all, Stop all, Quit.
func (v *view) updateTray() {
	if v.tray == nil {
		return
	}
	key := fmt.Sprint(v.running())
	if v.trayMenu == key {
		return
	}
	v.trayMenu = key
	show := fyne.NewMenuItem(lang.L("Show MailMover"), func() { v.win.Show(); v.win.RequestFocus() })
	startAll := fyne.NewMenuItem(lang.L("Start all"), v.startAll)
	stopAll := fyne.NewMenuItem(lang.L("Stop all"), func() { v.stopAll(nil) })
	stopAll.Disabled = !v.running()
	quit := fyne.NewMenuItem(lang.L("Quit"), func() { v.stopAll(v.quit) })
	quit.IsQuit = true
	v.tray.SetSystemTrayMenu(fyne.NewMenu(lang.L("MailMover"), show, fyne.NewMenuItemSeparator(), startAll, stopAll, fyne.NewMenuItemSeparator(), quit))
}
