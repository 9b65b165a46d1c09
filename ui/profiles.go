package ui

import (
	"fmt"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/store"
)

// profilePicker chooses the profile (one per mailbox) and creates, duplicates, renames
// and deletes profiles.
type profilePicker struct {
	v      *view
	sel    *widget.Select
	names  []string
	dup    *widget.Button
	rename *widget.Button
	del    *widget.Button
	quiet  bool // setting the selection from code
}

func newProfilePicker(v *view) *profilePicker { return &profilePicker{v: v} }

func (pp *profilePicker) build() fyne.CanvasObject {
	pp.sel = widget.NewSelect(nil, pp.selected)
	pp.sel.PlaceHolder = lang.L("(no profile — create one)")
	newB := widget.NewButtonWithIcon("", theme.ContentAddIcon(), pp.create)
	pp.dup = widget.NewButtonWithIcon("", theme.ContentCopyIcon(), pp.duplicate)
	pp.rename = widget.NewButtonWithIcon("", theme.DocumentCreateIcon(), pp.renameProfile)
	pp.del = widget.NewButtonWithIcon("", theme.DeleteIcon(), pp.deleteProfile)
	for _, b := range []*widget.Button{newB, pp.dup, pp.rename, pp.del} {
		b.Importance = widget.LowImportance
	}
	label := widget.NewLabelWithStyle(lang.L("Profile"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return container.NewHBox(label, container.NewGridWrap(fyne.NewSize(190, pp.sel.MinSize().Height), pp.sel),
		newB, pp.dup, pp.rename, pp.del)
}

// reload re-reads the profile names and selects want (or keeps the current one, or the
// first one).
func (pp *profilePicker) reload(want string) {
	v := pp.v
	names, err := v.be.ListProfiles()
	if err != nil {
		v.showError(lang.L("Could not list the profiles"), err)
	}
	v.log.setProfiles(slices.Clone(names))
	v.overview.model.refresh()
	if v.isNew && v.profileName != "" && !slices.Contains(names, v.profileName) {
		names = append(names, v.profileName)
		slices.Sort(names)
	}
	pp.names = names
	pp.quiet = true
	pp.sel.SetOptions(names)
	switch {
	case want != "" && slices.Contains(names, want):
	case v.profileName != "" && slices.Contains(names, v.profileName):
		want = v.profileName
	case len(names) > 0:
		want = names[0]
	default:
		want = ""
	}
	if want != "" {
		pp.sel.SetSelected(want)
	} else {
		pp.sel.ClearSelected()
	}
	pp.quiet = false
	if want != v.profileName || want == "" {
		pp.load(want)
	}
	pp.updateButtons()
}

func (pp *profilePicker) updateButtons() {
	has := pp.v.profileName != ""
	setEnabled(pp.dup, has)
	// A profile whose mover runs here keeps its name and file; the others can change.
	running := pp.v.runningProfile(pp.v.profileName)
	setEnabled(pp.rename, has && !pp.v.isNew && !running)
	setEnabled(pp.del, has && !running)
}

// selected is called when the user picks a profile: it asks before dropping changes.
func (pp *profilePicker) selected(name string) {
	v := pp.v
	if pp.quiet || name == v.profileName {
		return
	}
	if v.dirty || v.isNew {
		prev := v.profileName
		dialog.ShowConfirm(lang.L("Discard changes?"),
			fmt.Sprintf(lang.L("The profile %q has unsaved changes. Discard them and open %q?"), prev, name),
			func(ok bool) {
				if ok {
					if v.isNew {
						v.isNew = false
						v.profileName = ""
					}
					pp.load(name)
					pp.reload(name)
					return
				}
				pp.quiet = true
				pp.sel.SetSelected(prev)
				pp.quiet = false
			}, v.win)
		return
	}
	pp.load(name)
}

// load shows the saved profile name in the form ("" clears the form).
func (pp *profilePicker) load(name string) {
	v := pp.v
	if name == "" {
		v.profileName, v.saved, v.isNew = "", nil, false
		v.stored = map[string]bool{}
		v.fillForm(v.be.NewProfile("new"))
		v.profileName = ""
		v.updateTitle()
		return
	}
	p, err := v.be.LoadProfile(name)
	if err != nil {
		v.showError(lang.L("Could not open ")+name, err)
		p = v.be.NewProfile(name)
	}
	v.profileName, v.saved, v.isNew = name, p, false
	v.stored = map[string]bool{}
	v.fillForm(p)
	v.refreshStored()
	v.refreshTokenState()
	pp.updateButtons()
	v.log.refreshStatus()
}

// refreshStored reads which secrets the keyring holds for the profile (in the background).
func (v *view) refreshStored() {
	name := v.profileName
	sec := v.be.Secrets()
	run(v.br, func() (map[string]bool, error) {
		m := map[string]bool{}
		for _, kind := range []string{secretPassword, secretClientSecret} {
			if val, err := sec.Get(name, kind); err == nil && val != "" {
				m[kind] = true
			}
		}
		return m, nil
	}, func(m map[string]bool, _ error) {
		if name != v.profileName {
			return
		}
		v.stored = m
		v.revalidate()
	})
}

// askName asks for a profile name that is valid and not taken.
func (pp *profilePicker) askName(title, confirm, initial string, done func(string)) {
	e := widget.NewEntry()
	e.SetText(initial)
	e.Validator = func(s string) error {
		if err := store.ValidProfileName(s); err != nil {
			return err
		}
		if slices.Contains(pp.names, s) {
			return hint(lang.L("A profile with this name exists; choose another name"))
		}
		return nil
	}
	d := dialog.NewForm(title, confirm, lang.L("Cancel"),
		[]*widget.FormItem{{Text: lang.L("Name"), Widget: e, HintText: lang.L("One profile per mailbox, e.g. invoices")}},
		func(ok bool) {
			if ok {
				done(e.Text)
			}
		}, pp.v.win)
	d.Resize(fyne.NewSize(420, 0))
	d.Show()
	pp.v.win.Canvas().Focus(e)
}

// create starts a new, unsaved profile with the defaults.
func (pp *profilePicker) create() {
	pp.confirmDiscard(func() {
		pp.askName(lang.L("New profile"), lang.L("Create"), "", func(name string) {
			p := pp.v.be.NewProfile(name)
			if h := presetHost(p.OAuth2.Preset); h != "" && p.Setup.Host == "" {
				p.Setup.Host = h
			}
			pp.startNew(p)
		})
	})
}

// duplicate starts a new, unsaved profile with the current form's settings (not its
// secrets: those stay with their profile).
func (pp *profilePicker) duplicate() {
	cur := pp.v.profileFromForm()
	pp.askName(lang.L("Duplicate profile"), lang.L("Duplicate"), cur.Name+"-copy", func(name string) {
		p := *cur
		p.Name = name
		p.Common.Save = append([]string(nil), cur.Common.Save...)
		pp.startNew(&p)
	})
}

func (pp *profilePicker) startNew(p *store.Profile) {
	v := pp.v
	v.profileName, v.saved, v.isNew = p.Name, p, true
	v.stored = map[string]bool{}
	v.fillForm(p)
	v.loading = true
	v.security.password.SetText("")
	v.oauth.clientSecret.SetText("")
	v.loading = false
	v.dirty = true
	v.revalidate()
	v.showTokenState(TokenState{})
	pp.reload(p.Name)
}

func (pp *profilePicker) confirmDiscard(next func()) {
	v := pp.v
	if !v.dirty && !v.isNew {
		next()
		return
	}
	dialog.ShowConfirm(lang.L("Discard changes?"), fmt.Sprintf(lang.L("The profile %q has unsaved changes. Discard them?"), v.profileName),
		func(ok bool) {
			if ok {
				next()
			}
		}, v.win)
}

// renameProfile renames the saved profile (file, state and keyring entries).
func (pp *profilePicker) renameProfile() {
	v := pp.v
	old := v.profileName
	pp.confirmDiscard(func() {
		pp.askName(lang.L("Rename profile"), lang.L("Rename"), old, func(name string) {
			run(v.br, func() (struct{}, error) {
				return struct{}{}, v.be.RenameProfile(old, name)
			}, func(_ struct{}, err error) {
				if err != nil {
					v.showError(lang.L("Could not rename ")+old, err)
					return
				}
				v.profileName = ""
				v.dirty = false
				pp.reload(name)
			})
		})
	})
}

// deleteProfile asks, then deletes the profile with its state and secrets.
func (pp *profilePicker) deleteProfile() {
	v := pp.v
	name := v.profileName
	if v.isNew {
		v.isNew, v.dirty, v.profileName = false, false, ""
		pp.reload("")
		return
	}
	d := dialog.NewConfirm(lang.L("Delete profile?"),
		fmt.Sprintf(lang.L("Delete the profile %q, its progress and its keyring entries? Saved files are kept."), name),
		func(ok bool) {
			if !ok {
				return
			}
			run(v.br, func() (struct{}, error) {
				return struct{}{}, v.be.DeleteProfile(name)
			}, func(_ struct{}, err error) {
				if err != nil {
					v.showError(lang.L("Could not delete ")+name, err)
					return
				}
				v.profileName, v.dirty = "", false
				pp.reload("")
			})
		}, v.win)
	d.SetConfirmText(lang.L("Delete"))
	d.Show()
}
