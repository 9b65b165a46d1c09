package ui

import (
	"fmt"
	"image/png"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"
)

// Environment variables of the screenshot mode (used by the Xvfb test and to make the
// README's pictures): MAILMOVER_SCREENSHOT_TAB names the tab to show, and
// MAILMOVER_SCREENSHOT_OUT the PNG file to write; the program then exits.
const (
	envShotTab = "MAILMOVER_SCREENSHOT_TAB"
	envShotOut = "MAILMOVER_SCREENSHOT_OUT"
)

type screenshot struct {
	tab, out string
}

func screenshotFromEnv() *screenshot {
	tab, out := os.Getenv(envShotTab), os.Getenv(envShotOut)
	if tab == "" || out == "" {
		return nil
	}
	return &screenshot{tab: tab, out: out}
}

// run waits for the window to render, selects the tab, captures the canvas, writes the
// PNG and quits. Errors are printed and exit with status 1.
func (s *screenshot) run(v *view) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "mailmover: screenshot:", err)
		os.Exit(1)
	}
	time.Sleep(1500 * time.Millisecond) // let the window map and the keyring answer
	found := false
	fyne.DoAndWait(func() {
		for _, it := range v.tabs.Items {
			if strings.EqualFold(it.Text, s.tab) {
				v.tabs.Select(it)
				found = true
			}
		}
	})
	if !found {
		fail(fmt.Errorf("no tab %q", s.tab))
	}
	time.Sleep(800 * time.Millisecond)
	done := make(chan error, 1)
	fyne.DoAndWait(func() {
		pic := v.win.Canvas().Capture()
		f, err := os.Create(s.out)
		if err != nil {
			done <- err
			return
		}
		if err := png.Encode(f, pic); err != nil {
			f.Close()
			done <- err
			return
		}
		done <- f.Close()
	})
	if err := <-done; err != nil {
		fail(err)
	}
	fyne.Do(v.quit)
}
