package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/store"
)

// tabKeys name the tabs in order, untranslated (for MAILMOVER_SCREENSHOT_TAB).
var tabKeys = []string{"overview", "setup", "security", "common", "oauth2", "destination", "log"}

// field is one validated entry of the form, with where it lives (for the summary near
// Save) and the profile key it edits (to map store.FieldError keys back to it).
type field struct {
	tab   string
	label string
	key   string
	entry *widget.Entry
}

// view is the window's state: the overview of every profile, the form of the selected
// profile, the actions, the movers running in the window and the log.
// All its fields are touched on the UI thread only; goroutines reach it through bridge.
type view struct {
	app fyne.App
	win fyne.Window
	be  Backend
	br  *bridge

	ctx    context.Context // cancelled when the window goes away
	cancel context.CancelFunc

	// profile picker
	profileName string          // the profile in the form ("" when none)
	isNew       bool            // the profile has never been saved
	saved       *store.Profile  // the profile as last loaded or saved
	stored      map[string]bool // secret kinds the keyring holds for the profile
	dirty       bool
	loading     bool // filling the form: change handlers do nothing
	syncing     bool // keeping redirect URI and port in step
	fields      []*field

	tabs *container.AppTabs
	root fyne.CanvasObject // the window's content

	profiles *profilePicker
	setup    setupTab
	security securityTab
	common   commonTab
	oauth    oauthTab
	dest     destTab
	log      *logView
	overview *overview
	act      actions
	notes    *notifier

	runs     map[string]*moverRun // the movers running in this window, by profile
	endNotes map[string]endNote   // how the last run of a profile in this window ended

	tray      desktop.App // nil when the driver has no system tray
	trayMenu  string      // the tray menu shown (its state, to rebuild it only on change)
	trayState rowSeverity // the tray icon shown: the worst state of what runs

	langSelect *widget.Select // the language override

	lastDialog string // text of the last message dialog (for tests and the status line)
}

// Create builds the window's content for a and w with the real backend and returns it
// (the caller sets it with w.SetContent). It also installs the close question and, on
// desktops, the system tray menu.
func Create(a fyne.App, w fyne.Window) fyne.CanvasObject {
	return create(a, w, Options{}).root
}

// create builds the view of the window with the real backend (on opts.Secrets when set).
func create(a fyne.App, w fyne.Window, opts Options) *view {
	be := NewBackend()
	if opts.Secrets != nil {
		be = newBackendSecrets(opts.Secrets)
	}
	v := newView(a, w, be, newBridge())
	v.root = v.content()
	v.setupDesktop(a.Icon())
	return v
}

func newView(a fyne.App, w fyne.Window, be Backend, br *bridge) *view {
	v := &view{app: a, win: w, be: be, br: br, stored: map[string]bool{}, runs: map[string]*moverRun{}, endNotes: map[string]endNote{}}
	v.ctx, v.cancel = context.WithCancel(context.Background())
	v.log = newLogView(v)
	v.overview = newOverview(v)
	v.notes = newNotifier(time.Now, func(title, body string) {
		br.ui(func() { a.SendNotification(fyne.NewNotification(title, body)) })
	})
	v.profiles = newProfilePicker(v)
	return v
}

// content builds the whole window: the profile bar, the tabs (the overview of every
// profile first) and the status line.
func (v *view) content() fyne.CanvasObject {
	v.tabs = container.NewAppTabs(
		container.NewTabItemWithIcon(lang.L("Overview"), theme.GridIcon(), v.overview.build()),
		container.NewTabItemWithIcon(lang.L("Setup"), theme.ComputerIcon(), v.buildSetup()),
		container.NewTabItemWithIcon(lang.L("Security"), theme.VisibilityOffIcon(), v.buildSecurity()),
		container.NewTabItemWithIcon(lang.L("Common"), theme.SettingsIcon(), v.buildCommon()),
		container.NewTabItemWithIcon(lang.L("OAuth2"), theme.LoginIcon(), v.buildOAuth()),
		container.NewTabItemWithIcon(lang.L("Destination"), theme.FolderIcon(), v.buildDestination()),
		container.NewTabItemWithIcon(lang.L("Log"), theme.ListIcon(), v.log.build()),
	)
	v.tabs.SetTabLocation(container.TabLocationTop)
	top := container.NewVBox(
		container.NewBorder(nil, nil, v.profiles.build(), v.buildActionBar()),
		v.buildProblemBar(),
	)
	body := container.NewBorder(top, v.buildStatusBar(), nil, nil, v.tabs)
	v.profiles.reload("")
	if v.profileName == "" {
		v.selectTab("setup") // no profile yet: start with the form
	}
	v.log.startTicker(v.ctx)
	v.overview.startPoller(v.ctx)
	v.addShortcuts()
	return body
}

// selectTab shows the tab named key (one of tabKeys).
func (v *view) selectTab(key string) {
	if i := slices.Index(tabKeys, key); i >= 0 && i < len(v.tabs.Items) {
		v.tabs.SelectIndex(i)
	}
}

// newEntry makes a validated single-line entry that marks the form dirty on change. Its
// rule is the store's for key (storeRule); validator only words the hint.
func (v *view) newEntry(tab, label, key, placeholder string, validator func(string) error) *widget.Entry {
	e := widget.NewEntry()
	e.SetPlaceHolder(placeholder)
	e.Validator = v.storeRule(key, validator)
	e.OnChanged = func(string) { v.changed() }
	v.fields = append(v.fields, &field{tab: tab, label: label, key: key, entry: e})
	return e
}

// storeRule is the validator of the field editing profile key: the profile store's rule
// (store.Profile.Validate on the form as it is), the one rule every front end uses. The
// window only words it: when the store refuses the value and wording gives a hint, the
// hint is shown (it names an example), else the store's own message. A value the store
// accepts is never refused here.
func (v *view) storeRule(key string, wording func(string) error) func(string) error {
	return func(s string) error {
		msg := v.storeProblem(key)
		if msg == "" {
			return nil
		}
		if wording != nil {
			if err := wording(s); err != nil {
				return err
			}
		}
		return hint(msg)
	}
}

// storeProblem returns the store's message for key on the profile the form shows, or "".
func (v *view) storeProblem(key string) string {
	err := v.profileFromForm().Validate()
	for _, fe := range store.FieldErrors(err) {
		if fe.Key == key {
			return fe.Msg
		}
	}
	return ""
}

// newPassword makes a password entry (always masked) for a secret kept in the keyring.
func (v *view) newPassword(tab, label, key string, validator func(string) error) *widget.Entry {
	e := widget.NewPasswordEntry()
	e.Validator = validator
	e.OnChanged = func(string) { v.changed() }
	v.fields = append(v.fields, &field{tab: tab, label: label, key: key, entry: e})
	return e
}

// newSelect makes a select that marks the form dirty and re-validates on change.
func (v *view) newSelect(labels []string, onChange func(string)) *widget.Select {
	s := widget.NewSelect(labels, nil)
	s.OnChanged = func(l string) {
		if v.loading {
			return
		}
		if onChange != nil {
			onChange(l)
		}
		v.changed()
	}
	return s
}

// changed is called after every edit: it marks the form dirty and re-validates.
func (v *view) changed() {
	if v.loading {
		return
	}
	v.dirty = true
	v.revalidate()
}

// firstInvalid returns the first field whose validator fails, and its message.
func (v *view) firstInvalid() (*field, error) {
	for _, f := range v.fields {
		if f.entry.Validator == nil {
			continue
		}
		if err := f.entry.Validator(f.entry.Text); err != nil {
			return f, err
		}
	}
	return nil, nil
}

// invalidCount counts the fields whose validator fails.
func (v *view) invalidCount() int {
	n := 0
	for _, f := range v.fields {
		if f.entry.Validator != nil && f.entry.Validator(f.entry.Text) != nil {
			n++
		}
	}
	return n
}

// revalidate refreshes every field's validation state, the derived labels, the
// actions' enabled state and the title.
func (v *view) revalidate() {
	for _, f := range v.fields {
		if f.entry.Validator != nil {
			_ = f.entry.Validate()
		}
	}
	v.updateDerived()
	v.updateActions()
	v.updateTitle()
}

// updateTitle shows unsaved changes as a "•" in the window title.
func (v *view) updateTitle() {
	title := lang.L("MailMover")
	if v.profileName != "" {
		title = lang.L("MailMover — ") + v.profileName
	}
	if v.dirty {
		title = "• " + title
	}
	if v.win != nil {
		v.win.SetTitle(title)
	}
}

// fieldByKey finds the field editing a profile key such as "setup.host".
func (v *view) fieldByKey(key string) *field {
	for _, f := range v.fields {
		if f.key == key {
			return f
		}
	}
	// A key such as "oauth2.redirect_uri/redirect_port" or a nested one: match the prefix.
	for _, f := range v.fields {
		if f.key != "" && strings.HasPrefix(key, f.key) {
			return f
		}
	}
	return nil
}

// showField switches to the tab of f and focuses its entry.
func (v *view) showField(f *field) {
	for _, it := range v.tabs.Items {
		if it.Text == f.tab {
			v.tabs.Select(it)
		}
	}
	if c := v.win.Canvas(); c != nil {
		c.Focus(f.entry)
	}
}

// showTable selects the tab of a profile key's table ("security.tls" → Security), for a
// key edited by a choice rather than an entry.
func (v *view) showTable(key string) {
	table, _, _ := strings.Cut(key, ".")
	name := map[string]string{"setup": lang.L("Setup"), "security": lang.L("Security"), "common": lang.L("Common"),
		"oauth2": lang.L("OAuth2"), "destination": lang.L("Destination")}[table]
	for _, it := range v.tabs.Items {
		if name != "" && it.Text == name {
			v.tabs.Select(it)
		}
	}
}

// profileFromForm reads the form into a new profile.
func (v *view) profileFromForm() *store.Profile {
	var p store.Profile
	if v.saved != nil {
		p = *v.saved
		p.Common.Save = append([]string(nil), v.saved.Common.Save...)
	}
	p.Name = v.profileName
	v.readSetup(&p)
	v.readSecurity(&p)
	v.readCommon(&p)
	v.readOAuth(&p)
	v.readDestination(&p)
	return &p
}

// fillForm shows p in the form without firing change handlers.
func (v *view) fillForm(p *store.Profile) {
	v.loading = true
	v.fillSetup(p)
	v.fillSecurity(p)
	v.fillCommon(p)
	v.fillOAuth(p)
	v.fillDestination(p)
	v.loading = false
	v.dirty = false
	v.revalidate()
}

// typedSecrets are the secrets typed into the form and not saved yet.
func (v *view) typedSecrets() map[string]string {
	m := map[string]string{}
	if s := v.security.password.Text; s != "" {
		m[secretPassword] = s
	}
	if s := v.oauth.clientSecret.Text; s != "" {
		m[secretClientSecret] = s
	}
	return m
}

// secretsForRun are the stored secrets overlaid with the typed ones (for GET and Check).
func (v *view) secretsForRun() Secrets {
	return overlaySecrets{typed: v.typedSecrets(), base: v.be.Secrets()}
}

// showError shows err in a dialog with the backend's explanation and advice.
func (v *view) showError(title string, err error) {
	text, advice := v.be.DescribeError(err)
	if text == "" {
		text = err.Error()
	}
	msg := text
	if advice != "" {
		msg += lang.L("\n\nWhat to do: ") + advice
	}
	// The field the error is about, where the engine knows it: its tab comes to the front
	// behind the dialog, with the field focused.
	if key := v.be.ErrorField(err); key != "" {
		if f := v.fieldByKey(key); f != nil {
			v.showField(f)
		} else {
			v.showTable(key)
		}
	}
	lbl := widget.NewLabel(msg)
	lbl.Wrapping = fyne.TextWrapWord
	d := newDialog(title, lbl, v.win)
	d.Resize(fyne.NewSize(520, 0))
	d.Show()
	v.lastDialog = msg
}

// plural formats n with the singular or plural format (each holds one %d).
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf(one, n)
	}
	return fmt.Sprintf(many, n)
}
