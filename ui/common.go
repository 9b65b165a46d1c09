package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"mailmover/store"
)

// commonTab is the Common tab: which mail, filters, what to save, after-processing, watch.
type commonTab struct {
	search   *widget.RadioGroup
	since    *widget.Entry
	from     *widget.Entry
	subject  *widget.Entry
	mask     *widget.Entry
	saveAtt  *widget.Check
	saveMsg  *widget.Check
	saveBody *widget.Check
	after    *widget.Select
	moveTo   *widget.Entry
	watch    *widget.RadioGroup
	poll     *widget.Entry
}

func (v *view) buildCommon() fyne.CanvasObject {
	t := &v.common
	onChange := func(string) {
		if !v.loading {
			v.changed()
		}
	}
	t.search = widget.NewRadioGroup(searchLabels, onChange)
	t.search.Horizontal = true
	t.since = v.newEntry("Common", "Since", "common.since", "YYYY-MM-DD (empty: any date)", validateSince)
	t.from = v.newEntry("Common", "From contains", "common.from", "e.g. billing@ (empty: anyone)", validateOneLine)
	t.subject = v.newEntry("Common", "Subject contains", "common.subject", "e.g. Invoice (empty: any)", validateOneLine)
	t.mask = v.newEntry("Common", "Attachment files", "common.attachment_mask", "*.pdf;*.xml", validateMask)
	onCheck := func(bool) { onChange("") }
	t.saveAtt = widget.NewCheck("Attachments", onCheck)
	t.saveMsg = widget.NewCheck("Whole message (.eml)", onCheck)
	t.saveBody = widget.NewCheck("Message text", onCheck)
	t.after = v.newSelect(afterLabels, nil)
	t.moveTo = v.newEntry("Common", "Move to", "common.move_to", "Archive", func(s string) error {
		return validateMoveTo(valueOf(afterLabels, afterValues, t.after.Selected) == store.AfterMove)(s)
	})
	t.watch = widget.NewRadioGroup(watchLabels, onChange)
	t.watch.Horizontal = true
	t.poll = v.newEntry("Common", "Poll every", "common.poll_interval", "60s", validatePoll)

	form := widget.NewForm(
		&widget.FormItem{Text: "Which mail", Widget: t.search},
		&widget.FormItem{Text: "Since", Widget: t.since, HintText: "Only mail received on or after this day"},
		&widget.FormItem{Text: "From contains", Widget: t.from, HintText: "Sender address or name, case-insensitive"},
		&widget.FormItem{Text: "Subject contains", Widget: t.subject, HintText: "Case-insensitive"},
		&widget.FormItem{Text: "Save", Widget: container.NewHBox(t.saveAtt, t.saveMsg, t.saveBody)},
		&widget.FormItem{Text: "Attachment files", Widget: t.mask,
			HintText: `Patterns separated by ";", case-insensitive; * saves every attachment`},
		&widget.FormItem{Text: "Afterwards", Widget: t.after, HintText: "Applied only after the files are safely on disk"},
		&widget.FormItem{Text: "Move to", Widget: t.moveTo, HintText: "The folder for \"Move to folder\""},
		&widget.FormItem{Text: "New mail", Widget: t.watch, HintText: "IDLE reacts at once; poll checks on a timer"},
		&widget.FormItem{Text: "Poll every", Widget: t.poll, HintText: "Also the IDLE fallback when the server has no IDLE"},
	)
	return tabPage("Which mail, and what to keep",
		"Filters pick the messages; the files go to the Destination; the message is then marked, moved or deleted.",
		form)
}

// validateSave needs at least one thing to save.
func (v *view) saveProblem() string {
	t := &v.common
	if !t.saveAtt.Checked && !t.saveMsg.Checked && !t.saveBody.Checked {
		return "Common › Save: tick at least one of Attachments, Whole message, Message text"
	}
	return ""
}

func (v *view) readCommon(p *store.Profile) {
	t := &v.common
	p.Common.Search = valueOf(searchLabels, searchValues, t.search.Selected)
	p.Common.Since = strings.TrimSpace(t.since.Text)
	p.Common.From = t.from.Text
	p.Common.Subject = t.subject.Text
	p.Common.AttachmentMask = strings.TrimSpace(t.mask.Text)
	p.Common.Save = nil
	if t.saveAtt.Checked {
		p.Common.Save = append(p.Common.Save, store.SaveAttachments)
	}
	if t.saveMsg.Checked {
		p.Common.Save = append(p.Common.Save, store.SaveMessage)
	}
	if t.saveBody.Checked {
		p.Common.Save = append(p.Common.Save, store.SaveBody)
	}
	p.Common.After = valueOf(afterLabels, afterValues, t.after.Selected)
	p.Common.MoveTo = strings.TrimSpace(t.moveTo.Text)
	p.Common.Watch = valueOf(watchLabels, watchValues, t.watch.Selected)
	if d, err := time.ParseDuration(strings.TrimSpace(t.poll.Text)); err == nil {
		p.Common.PollInterval = store.Duration{Duration: d}
	}
}

func (v *view) fillCommon(p *store.Profile) {
	t := &v.common
	t.search.SetSelected(labelOf(searchLabels, searchValues, p.Common.Search))
	t.since.SetText(p.Common.Since)
	t.from.SetText(p.Common.From)
	t.subject.SetText(p.Common.Subject)
	t.mask.SetText(p.Common.AttachmentMask)
	has := func(s string) bool {
		for _, x := range p.Common.Save {
			if x == s {
				return true
			}
		}
		return false
	}
	t.saveAtt.SetChecked(has(store.SaveAttachments))
	t.saveMsg.SetChecked(has(store.SaveMessage))
	t.saveBody.SetChecked(has(store.SaveBody))
	t.after.SetSelected(labelOf(afterLabels, afterValues, p.Common.After))
	t.moveTo.SetText(p.Common.MoveTo)
	t.watch.SetSelected(labelOf(watchLabels, watchValues, p.Common.Watch))
	poll := ""
	if p.Common.PollInterval.Duration > 0 {
		poll = shortDuration(p.Common.PollInterval.Duration)
	}
	t.poll.SetText(poll)
}

// updateCommonDerived enables the fields that matter for the current choices.
func (v *view) updateCommonDerived() {
	t := &v.common
	setEnabled(t.moveTo, valueOf(afterLabels, afterValues, t.after.Selected) == store.AfterMove)
	setEnabled(t.mask, t.saveAtt.Checked)
}

// setEnabled enables or disables a widget.
func setEnabled(w fyne.Disableable, on bool) {
	if on {
		w.Enable()
	} else {
		w.Disable()
	}
}

// shortDuration writes 60s as "60s" and 5m as "5m" (not "1m0s").
func shortDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0 && d > 2*time.Minute:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}
