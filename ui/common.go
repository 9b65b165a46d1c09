package ui

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
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
	t.search = widget.NewRadioGroup(translated(searchLabels), onChange)
	t.search.Horizontal = true
	t.since = v.newEntry(lang.L("Common"), lang.L("Since"), "common.since", lang.L("YYYY-MM-DD (empty: any date)"), validateSince)
	t.from = v.newEntry(lang.L("Common"), lang.L("From contains"), "common.from", lang.L("e.g. billing@ (empty: anyone)"), validateOneLine)
	t.subject = v.newEntry(lang.L("Common"), lang.L("Subject contains"), "common.subject", lang.L("e.g. Invoice (empty: any)"), validateOneLine)
	t.mask = v.newEntry(lang.L("Common"), lang.L("Attachment files"), "common.attachment_mask", "*.pdf;*.xml", validateMask)
	onCheck := func(bool) { onChange("") }
	t.saveAtt = widget.NewCheck(lang.L("Attachments"), onCheck)
	t.saveMsg = widget.NewCheck(lang.L("Whole message (.eml)"), onCheck)
	t.saveBody = widget.NewCheck(lang.L("Message text"), onCheck)
	t.after = v.newSelect(translated(afterLabels), nil)
	t.moveTo = v.newEntry(lang.L("Common"), lang.L("Move to"), "common.move_to", lang.L("Archive"), func(s string) error {
		return validateMoveTo(valueOf(afterLabels, afterValues, t.after.Selected) == store.AfterMove)(s)
	})
	t.watch = widget.NewRadioGroup(translated(watchLabels), onChange)
	t.watch.Horizontal = true
	t.poll = v.newEntry(lang.L("Common"), lang.L("Poll every"), "common.poll_interval", "60s", validatePoll)

	form := widget.NewForm(
		&widget.FormItem{Text: lang.L("Which mail"), Widget: t.search},
		&widget.FormItem{Text: lang.L("Since"), Widget: t.since, HintText: lang.L("Only mail received on or after this day")},
		&widget.FormItem{Text: lang.L("From contains"), Widget: t.from, HintText: lang.L("Sender address or name, case-insensitive")},
		&widget.FormItem{Text: lang.L("Subject contains"), Widget: t.subject, HintText: lang.L("Case-insensitive")},
		&widget.FormItem{Text: lang.L("Save"), Widget: container.NewHBox(t.saveAtt, t.saveMsg, t.saveBody)},
		&widget.FormItem{Text: lang.L("Attachment files"), Widget: t.mask,
			HintText: lang.L(`Patterns separated by ";", case-insensitive; * saves every attachment`)},
		&widget.FormItem{Text: lang.L("Afterwards"), Widget: t.after, HintText: lang.L("Applied only after the files are safely on disk")},
		&widget.FormItem{Text: lang.L("Move to"), Widget: t.moveTo, HintText: lang.L("The folder for \"Move to folder\"")},
		&widget.FormItem{Text: lang.L("New mail"), Widget: t.watch, HintText: lang.L("IDLE reacts at once; poll checks on a timer")},
		&widget.FormItem{Text: lang.L("Poll every"), Widget: t.poll, HintText: lang.L("Also the IDLE fallback when the server has no IDLE")},
	)
	return tabPage(lang.L("Which mail, and what to keep"),
		lang.L("Filters pick the messages; the files go to the Destination; the message is then marked, moved or deleted."),
		form)
}

// validateSave needs at least one thing to save.
func (v *view) saveProblem() string {
	t := &v.common
	if !t.saveAtt.Checked && !t.saveMsg.Checked && !t.saveBody.Checked {
		return lang.L("Common › Save: tick at least one of Attachments, Whole message, Message text")
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
