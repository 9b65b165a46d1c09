package ui

import (
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/mover"
	"mailmover/store"
)

// destTab is the Destination tab: the folder, the file-name template and conflicts.
type destTab struct {
	folder   *widget.Entry
	filename *widget.Entry
	example  *widget.Label
	conflict *widget.Select
}

func (v *view) buildDestination() fyne.CanvasObject {
	t := &v.dest
	t.folder = v.newEntry(lang.L("Destination"), lang.L("Folder"), "destination.folder", "/srv/mail-in", validateDestFolder)
	choose := widget.NewButtonWithIcon(lang.L("Choose…"), theme.FolderOpenIcon(), func() {
		d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
			if err != nil || u == nil {
				return
			}
			t.folder.SetText(filepath.FromSlash(u.Path())) // fyne's URI path is "/"-separated: C:\in on Windows
		}, v.win)
		d.Show()
	})
	t.filename = v.newEntry(lang.L("Destination"), lang.L("File name"), "destination.filename", "{filename}", validateTemplate)
	t.example = widget.NewLabel("")
	t.example.TextStyle.Monospace = true
	t.example.Truncation = fyne.TextTruncateEllipsis
	t.conflict = v.newSelect(translated(conflictLabels), nil)

	names := muted(lang.L("{filename} {name} {ext} {date} {time} {from} {subject} {uid} {messageid} — a \"/\" makes sub-folders"))

	form := widget.NewForm(
		&widget.FormItem{Text: lang.L("Folder"), Widget: container.NewBorder(nil, nil, nil, choose, t.folder),
			HintText: lang.L("Where the files are saved; created when missing")},
		&widget.FormItem{Text: lang.L("File name"), Widget: t.filename, HintText: lang.L("A template; names from mail are made safe")},
		&widget.FormItem{Text: lang.L("Placeholders"), Widget: names},
		&widget.FormItem{Text: lang.L("Example"), Widget: t.example},
		&widget.FormItem{Text: lang.L("If the file exists"), Widget: t.conflict},
	)
	return tabPage(lang.L("Destination"),
		lang.L("Files are written to a temporary name, synced, then renamed into place — never half a file."),
		form)
}

func (v *view) readDestination(p *store.Profile) {
	t := &v.dest
	p.Destination.Folder = strings.TrimSpace(t.folder.Text)
	p.Destination.Filename = strings.TrimSpace(t.filename.Text)
	p.Destination.OnConflict = valueOf(conflictLabels, conflictValues, t.conflict.Selected)
}

func (v *view) fillDestination(p *store.Profile) {
	t := &v.dest
	t.folder.SetText(p.Destination.Folder)
	t.filename.SetText(p.Destination.Filename)
	t.conflict.SetSelected(labelOf(conflictLabels, conflictValues, p.Destination.OnConflict))
}

// updateDestDerived renders the live example of the file-name template.
func (v *view) updateDestDerived() {
	t := &v.dest
	ex := "—"
	if validateTemplate(t.filename.Text) == nil {
		folder := strings.TrimSpace(t.folder.Text)
		if folder == "" {
			folder = "…"
		}
		// The mover's own template expansion and safe-name rules, on a sample file.
		var p store.Profile
		p.Destination.Filename = strings.TrimSpace(t.filename.Text)
		if name, err := mover.PreviewName(&p); err == nil {
			ex = examplePath(folder, name) // folderpath.go
		}
	}
	if t.example.Text != ex {
		t.example.SetText(ex)
	}
}

// updateDerived refreshes everything computed from the form.
func (v *view) updateDerived() {
	if v.oauth.scopeWarn == nil || v.dest.example == nil {
		return // still building
	}
	v.updateCommonDerived()
	v.updateOAuthDerived()
	v.updateDestDerived()
	v.updateSecretHints()
}
