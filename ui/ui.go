// Package ui is MailMover's window: one file per tab, the actions (GET, Save, Check,
// Start, Stop) and the live transfer log. It only renders state and calls narrow
// interfaces; the work happens in auth, store and mover.
package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

// AppID is the application ID, as in FyneApp.toml.
const AppID = "io.github.mailmover"

// Main opens the window and blocks until it is closed; it returns the exit code.
func Main(args []string) int {
	a := app.NewWithID(AppID)
	w := a.NewWindow("MailMover")
	w.SetContent(widget.NewLabel("MailMover"))
	w.Resize(fyne.NewSize(900, 640))
	w.ShowAndRun()
	return 0
}
