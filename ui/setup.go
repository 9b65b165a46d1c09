package ui

import (
	"context"
	"sort"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/store"
)

// setupTab is the Setup tab: the provider preset and where the mailbox is.
type setupTab struct {
	preset       *widget.Select
	host         *widget.Entry
	port         *widget.Entry
	username     *widget.Entry
	folder       *widget.SelectEntry
	loadFolders  *widget.Button
	foldersState *widget.Label
	folderNames  []string // the folders last loaded from the server
}

func (v *view) buildSetup() fyne.CanvasObject {
	t := &v.setup
	t.preset = v.newSelect(translated(presetLabels), v.applyPreset)
	t.host = v.newEntry(lang.L("Setup"), lang.L("Host"), "setup.host", "outlook.office365.com", validateHost)
	t.port = v.newEntry(lang.L("Setup"), lang.L("Port"), "setup.port", "993", validatePort)
	t.username = v.newEntry(lang.L("Setup"), lang.L("Mailbox"), "setup.username", "invoices@contoso.example", validateUsername)

	t.folder = widget.NewSelectEntry(nil)
	t.folder.SetPlaceHolder("INBOX")
	t.folder.Validator = v.storeRule("setup.folder", validateFolder)
	t.folder.OnChanged = func(string) { v.changed() }
	v.fields = append(v.fields, &field{tab: lang.L("Setup"), label: lang.L("Folder"), key: "setup.folder", entry: &t.folder.Entry})
	t.foldersState = widget.NewLabel("")
	t.loadFolders = widget.NewButtonWithIcon(lang.L("Load from server"), theme.ViewRefreshIcon(), v.loadFolders)

	form := widget.NewForm(
		&widget.FormItem{Text: lang.L("Provider"), Widget: t.preset,
			HintText: lang.L("Fills host, port, sign-in URLs and scope; Custom keeps what you enter")},
		&widget.FormItem{Text: lang.L("Host"), Widget: t.host, HintText: lang.L("The IMAP server's name")},
		&widget.FormItem{Text: lang.L("Port"), Widget: t.port, HintText: lang.L("993 for implicit TLS, 143 for STARTTLS (see Security)")},
		&widget.FormItem{Text: lang.L("Mailbox"), Widget: t.username,
			HintText: lang.L("The user name to sign in as, usually the e-mail address (a shared mailbox's address works too)")},
		&widget.FormItem{Text: lang.L("Folder"), Widget: container.NewBorder(nil, nil, nil, t.loadFolders, t.folder),
			HintText: lang.L("The folder to read; load the list from the server to pick one")},
	)
	return tabPage(lang.L("Mailbox"),
		lang.L("Which mailbox MailMover reads. One profile per mailbox."),
		form, t.foldersState)
}

// applyPreset fills host, port, TLS, sign-in method, URLs and scope for a preset.
func (v *view) applyPreset(label string) {
	preset := presetFromLabel(label)
	if preset == store.PresetCustom {
		v.updateDerived()
		return
	}
	p := v.profileFromForm()
	tenant := strings.TrimSpace(v.oauth.tenant.Text)
	if store.IsMicrosoftPreset(preset) && tenant == "" {
		tenant = "organizations"
	}
	v.be.ApplyPreset(&p.OAuth2, preset, tenant)
	p.OAuth2.Preset = preset
	if h := presetHost(preset); h != "" {
		p.Setup.Host = h
	}
	p.Security.TLS = store.TLSImplicit
	p.Setup.Port = defaultPort(store.TLSImplicit)
	if p.Security.Auth == store.AuthPassword || p.Security.Auth == "" {
		p.Security.Auth = store.AuthXOAuth2
	}
	v.loading = true
	v.fillSetup(p)
	v.fillSecurity(p)
	v.fillOAuth(p)
	v.loading = false
}

func (v *view) readSetup(p *store.Profile) {
	t := &v.setup
	p.OAuth2.Preset = presetFromLabel(t.preset.Selected)
	p.Setup.Host = strings.TrimSpace(t.host.Text)
	p.Setup.Port, _ = strconv.Atoi(strings.TrimSpace(t.port.Text))
	p.Setup.Username = strings.TrimSpace(t.username.Text)
	p.Setup.Folder = strings.TrimSpace(t.folder.Text)
}

func (v *view) fillSetup(p *store.Profile) {
	t := &v.setup
	t.preset.SetSelected(presetLabel(p.OAuth2.Preset))
	t.host.SetText(p.Setup.Host)
	t.port.SetText(itoa(p.Setup.Port))
	t.username.SetText(p.Setup.Username)
	t.folder.SetText(p.Setup.Folder)
}

// loadFolders fills the folder picker from the server, in the background.
func (v *view) loadFolders() {
	t := &v.setup
	p := v.profileFromForm()
	sec := v.secretsForRun()
	t.loadFolders.Disable()
	t.foldersState.SetText(lang.L("Signing in to list the folders…"))
	ctx, cancel := context.WithTimeout(v.ctx, defaultActionTimeout)
	run(v.br, func() ([]string, error) {
		defer cancel()
		return v.be.ListFolders(ctx, p, sec)
	}, func(names []string, err error) {
		t.loadFolders.Enable()
		if err != nil {
			t.foldersState.SetText(lang.L("Could not list the folders."))
			v.showError(lang.L("Could not list the folders"), err)
			return
		}
		sort.Strings(names)
		t.folderNames = names
		t.folder.SetOptions(names)
		t.foldersState.SetText(plural(len(names), lang.L("%d folder"), lang.L("%d folders")) + lang.L(" on the server: open the list at the Folder field."))
	})
}

// muted is secondary text in the colour of the form hints, wrapped.
func muted(text string) *widget.RichText {
	rt := widget.NewRichText(&widget.TextSegment{Text: text,
		Style: widget.RichTextStyle{ColorName: theme.ColorNamePlaceHolder, Inline: true}})
	rt.Wrapping = fyne.TextWrapWord
	return rt
}

// mutedLine is muted on one line (for short names beside values).
func mutedLine(text string) *widget.RichText {
	rt := muted(text)
	rt.Wrapping = fyne.TextWrapOff
	return rt
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// tabPage lays out a tab: a heading, a one-line explanation, and the form, scrollable.
func tabPage(title, intro string, parts ...fyne.CanvasObject) fyne.CanvasObject {
	head := widget.NewLabelWithStyle(title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	head.SizeName = theme.SizeNameSubHeadingText
	objs := []fyne.CanvasObject{container.NewVBox(head, muted(intro)), widget.NewSeparator()}
	objs = append(objs, parts...)
	return container.NewVScroll(container.NewPadded(container.NewVBox(objs...)))
}
