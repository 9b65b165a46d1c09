package ui

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"

	"mailmover/i18n"
	"mailmover/mover"
)

// Environment variables of the screenshot mode, used by the Xvfb test (uishot/) that
// makes the README's pictures: MAILMOVER_SCREENSHOT_TAB names the tab to show;
// MAILMOVER_SCREENSHOT_READY is a file the window writes ("WIDTH HEIGHT" in pixels) once
// the tab is rendered, and waits for the test to delete (after it took the picture)
// before it quits. MAILMOVER_SCREENSHOT_SAMPLE=1 fills the log with sample events, so
// the Log tab's picture shows what a run looks like. MAILMOVER_SCREENSHOT_START=all
// starts every profile (Start all) and waits until each has settled (idle, paused,
// retrying or in error) before the picture, so the Overview's shows profiles running.
//
// (The window does not capture itself: under Xvfb with Mesa, fyne's Canvas.Capture
// reads an empty front buffer, so the test grabs the X screen instead.)
const (
	envShotTab    = "MAILMOVER_SCREENSHOT_TAB"
	envShotReady  = "MAILMOVER_SCREENSHOT_READY"
	envShotSample = "MAILMOVER_SCREENSHOT_SAMPLE"
	envShotStart  = "MAILMOVER_SCREENSHOT_START"
)

type screenshot struct {
	tab, ready string
	sample     bool
	startAll   bool
}

func screenshotFromEnv() *screenshot {
	tab, ready := os.Getenv(envShotTab), os.Getenv(envShotReady)
	if tab == "" || ready == "" {
		return nil
	}
	return &screenshot{tab: tab, ready: ready, sample: os.Getenv(envShotSample) == "1", startAll: os.Getenv(envShotStart) == "all"}
}

// run waits for the window to render, selects the tab, reports readiness, waits for the
// picture to be taken and quits. On failure it prints the reason and exits with 1.
func (s *screenshot) run(v *view) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "mailmover: screenshot:", err)
		os.Exit(1)
	}
	time.Sleep(1500 * time.Millisecond) // let the window map and the profile load
	if s.startAll {
		fyne.DoAndWait(v.startAll)
		settled, deadline := false, time.Now().Add(45*time.Second)
		for !settled && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
			fyne.DoAndWait(func() { settled = v.overview.settled() })
		}
		if !settled {
			fail(errors.New("the profiles did not settle within 45 s"))
		}
	}
	found := false
	fyne.DoAndWait(func() {
		for i, key := range tabKeys {
			if strings.EqualFold(key, s.tab) && i < len(v.tabs.Items) {
				v.tabs.SelectIndex(i)
				found = true
			}
		}
		if s.sample && strings.EqualFold(s.tab, "log") {
			for _, ev := range sampleEvents(time.Date(2026, 11, 28, 9, 14, 0, 0, time.Local)) {
				v.log.model.add(ev)
			}
			v.log.flush()
			v.log.showRunStatus("invoices")
			// The picture shows a run in progress: Start off, Stop on.
			v.act.start.Disable()
			v.act.stop.Enable()
			v.log.forget.Disable()
		}
	})
	if !found {
		fail(fmt.Errorf("no tab %q", s.tab))
	}
	time.Sleep(1000 * time.Millisecond) // let the tab paint
	var size fyne.Size
	var scale float32
	fyne.DoAndWait(func() { size, scale = v.win.Canvas().Size(), v.win.Canvas().Scale() })
	w, h := int(size.Width*scale+0.5), int(size.Height*scale+0.5)
	if err := os.WriteFile(s.ready, fmt.Appendf(nil, "%d %d\n", w, h), 0o600); err != nil {
		fail(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(s.ready); os.IsNotExist(err) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	fyne.Do(v.quit)
}

// sampleEvents is what the start of a pass over a backlog of invoices looks like in the
// log, with another profile's (reports) new mail in between, from start (a fixed time,
// so that the pictures only change when the window does).
func sampleEvents(start time.Time) []mover.Event {
	t := start
	step := func() time.Time { t = t.Add(3 * time.Second); return t }
	c := mover.Counters{}
	const total = 48
	var evs []mover.Event
	add := func(ev mover.Event) {
		ev.Time, ev.Counters, ev.Profile = step(), c, "invoices"
		evs = append(evs, ev)
	}
	progress := func() { add(mover.Event{Kind: mover.KindProgress, Done: c.Messages + c.Errors, Total: total}) }
	add(mover.Event{Kind: mover.KindConnecting, Text: i18n.Sprintf("connecting to %s", "outlook.office365.com:993")})
	add(mover.Event{Kind: mover.KindConnected, Text: i18n.Sprintf("connected; folder %s selected (%d messages)", "INBOX", total)})
	add(mover.Event{Kind: mover.KindFound, Total: total})
	add(mover.Event{Kind: mover.KindMessage, UID: 4711, From: "billing@fabrikam.example", Subject: "Invoice 2026-1187"})
	c.Files, c.Bytes = 1, 184_320
	add(mover.Event{Kind: mover.KindFileSaved, UID: 4711, Path: "/srv/mail-in/2026-11-28_Invoice-2026-1187.pdf", Bytes: 184_320})
	c.Files, c.Bytes = 2, 196_608
	add(mover.Event{Kind: mover.KindFileSaved, UID: 4711, Path: "/srv/mail-in/2026-11-28_Invoice-2026-1187.xml", Bytes: 12_288})
	add(mover.Event{Kind: mover.KindPostAction, UID: 4711, Text: i18n.Sprintf("message UID %d moved to %s", 4711, "Archive/Invoices")})
	c.Messages = 1
	add(mover.Event{Kind: mover.KindMessageDone, UID: 4711, Text: i18n.Sprintf("message UID %d done", 4711)})
	progress()
	add(mover.Event{Kind: mover.KindMessage, UID: 4712, From: "accounts@northwind.example", Subject: "Your statement"})
	add(mover.Event{Kind: mover.KindSkipped, UID: 4712, Text: i18n.Sprintf("attachment %q does not match attachment_mask %q", "logo.png", "*.pdf;*.xml")})
	c.Files, c.Bytes = 3, 512_000
	add(mover.Event{Kind: mover.KindFileSaved, UID: 4712, Path: "/srv/mail-in/2026-11-28_statement.pdf", Bytes: 315_392})
	add(mover.Event{Kind: mover.KindPostAction, UID: 4712, Text: i18n.Sprintf("message UID %d moved to %s", 4712, "Archive/Invoices")})
	c.Messages = 2
	add(mover.Event{Kind: mover.KindMessageDone, UID: 4712, Text: i18n.Sprintf("message UID %d done", 4712)})
	progress()
	rc := mover.Counters{Messages: 1, Files: 1, Bytes: 48_128}
	for _, ev := range []mover.Event{
		{Kind: mover.KindMessage, UID: 982, From: "erp@contoso.example", Subject: "Daily sales report"},
		{Kind: mover.KindFileSaved, UID: 982, Path: "/srv/reports-in/2026-11-28_sales.csv", Bytes: 48_128},
		{Kind: mover.KindIdle, Text: i18n.Sprintf("waiting for new mail (%s)", "IDLE")},
	} {
		ev.Time, ev.Counters, ev.Profile = step(), rc, "reports"
		evs = append(evs, ev)
	}
	c.Errors = 1
	add(mover.Event{Kind: mover.KindError, UID: 4713, Text: i18n.Sprintf("message UID %d failed and stays unmarked: %v", 4713,
		i18n.Errorf("the message's MIME structure is broken (%d problem(s), first: %w)", 1, errors.New("multipart: NextPart: EOF"))),
		Advice: i18n.T("The message is left unmarked and tried again on the next pass; save it as .eml from a mail client to look at it.")})
	progress()
	add(mover.Event{Kind: mover.KindMessage, UID: 4714, From: "invoice@contoso-supplies.example", Subject: "Rechnung 88213"})
	c.Files, c.Bytes = 4, 733_184
	add(mover.Event{Kind: mover.KindFileSaved, UID: 4714, Path: "/srv/mail-in/2026-11-28_Rechnung-88213.pdf", Bytes: 221_184})
	return evs
}
