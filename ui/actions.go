package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"mailmover/store"
)

// defaultActionTimeout bounds Check and the folder list.
const defaultActionTimeout = 90 * time.Second

// loginTimeout bounds the browser sign-in (the user has to type a password).
const loginTimeout = 5 * time.Minute

// actions holds the action buttons and the state of the running work.
type actions struct {
	save, check, start, stop *widget.Button
	unsaved                  *widget.Label
	problem                  *widget.Label
	problemBox               *fyne.Container
	problemField             *field

	loginCancel context.CancelFunc // non-nil while GET runs
	checking    bool
}

// buildActionBar makes Save, Check, Start and Stop with the unsaved-changes marker.
func (v *view) buildActionBar() fyne.CanvasObject {
	a := &v.act
	a.save = widget.NewButtonWithIcon(lang.L("Save"), theme.DocumentSaveIcon(), v.save)
	a.save.Importance = widget.HighImportance
	a.check = widget.NewButtonWithIcon(lang.L("Check"), theme.ConfirmIcon(), v.runCheck)
	a.start = widget.NewButtonWithIcon(lang.L("Start"), theme.MediaPlayIcon(), v.startMover)
	a.stop = widget.NewButtonWithIcon(lang.L("Stop"), theme.MediaStopIcon(), func() { v.stopProfile(v.profileName, nil) })
	a.stop.Disable()
	a.unsaved = widget.NewLabel("")
	a.unsaved.Importance = widget.WarningImportance
	return container.NewHBox(a.save, a.check, widget.NewSeparator(), a.start, a.stop)
}

// buildProblemBar shows the first invalid field (why Save is disabled), with a link to it.
func (v *view) buildProblemBar() fyne.CanvasObject {
	a := &v.act
	a.problem = widget.NewLabel("")
	a.problem.Importance = widget.DangerImportance
	a.problem.Truncation = fyne.TextTruncateEllipsis
	show := widget.NewButton(lang.L("Show"), func() {
		if a.problemField != nil {
			v.showField(a.problemField)
		}
	})
	show.Importance = widget.LowImportance
	a.problemBox = container.NewBorder(nil, nil, widget.NewIcon(theme.NewErrorThemedResource(theme.ErrorIcon())), show, a.problem)
	a.problemBox.Hide()
	return a.problemBox
}

// buildStatusBar is the line under the tabs: the mover's state, and unsaved changes.
func (v *view) buildStatusBar() fyne.CanvasObject {
	return container.NewVBox(widget.NewSeparator(),
		container.NewBorder(nil, nil, nil, container.NewHBox(v.act.unsaved, v.buildLanguagePicker()), v.log.buildStatus()))
}

// buildLanguagePicker overrides the system's language (applied at the next start).
func (v *view) buildLanguagePicker() fyne.CanvasObject {
	names := make([]string, len(languages))
	current := v.app.Preferences().String(prefLanguage)
	for i, l := range languages {
		names[i] = lang.L(l.name)
	}
	sel := widget.NewSelect(names, nil)
	sel.SetSelectedIndex(max(0, slices.IndexFunc(languages, func(l struct{ code, name string }) bool { return l.code == current })))
	sel.OnChanged = func(string) {
		code := languages[sel.SelectedIndex()].code
		if code == v.app.Preferences().String(prefLanguage) {
			return
		}
		v.app.Preferences().SetString(prefLanguage, code)
		v.showMessage(lang.L("Language"), lang.L("The language changes when MailMover starts next time."))
	}
	v.langSelect = sel
	return container.NewHBox(mutedLine(lang.L("Language")), sel)
}

// updateActions enables the actions that make sense now and says why Save is disabled.
func (v *view) updateActions() {
	a := &v.act
	if a.save == nil {
		return
	}
	f, err := v.firstInvalid()
	problem := ""
	if f != nil {
		n := v.invalidCount()
		problem = f.tab + " › " + f.label + ": " + err.Error()
		if n > 1 {
			problem += "  " + plural(n-1, lang.L("(%d more field needs attention)"), lang.L("(%d more fields need attention)"))
		}
	} else if p := v.saveProblem(); p != "" {
		problem = p
	} else if v.profileName != "" {
		// The store's rules are the last word (they also guard the file on Save).
		if fes := store.FieldErrors(v.profileFromForm().Validate()); len(fes) > 0 {
			fe := fes[0]
			if ff := v.fieldByKey(fe.Key); ff != nil {
				f = ff
				problem = ff.tab + " › " + ff.label + ": " + fe.Msg
			} else {
				problem = fe.Error()
			}
		}
	}
	a.problemField = f
	if problem == "" {
		a.problemBox.Hide()
	} else {
		a.problem.SetText(problem)
		a.problemBox.Show()
	}
	has := v.profileName != ""
	valid := problem == ""
	setEnabled(a.save, has && valid && (v.dirty || v.isNew))
	setEnabled(a.check, has && valid && !a.checking)
	r := v.runs[v.profileName]
	running := r != nil
	// A profile another process runs (the service) is not started here a second time.
	setEnabled(a.start, has && valid && !running && !v.overview.elsewhere[v.profileName])
	setEnabled(a.stop, running && !r.stopping)
	if v.log.forget != nil {
		setEnabled(v.log.forget, has && !v.isNew && !running)
	}
	if v.dirty || v.isNew {
		a.unsaved.SetText(lang.L("● Unsaved changes"))
	} else {
		a.unsaved.SetText("")
	}
	v.updateTray()
}

// save writes the profile and the typed secrets.
func (v *view) save() { v.saveThen(nil) }

// saveThen saves, then calls next (on the UI thread) when all went well.
func (v *view) saveThen(next func()) {
	if f, err := v.firstInvalid(); f != nil {
		v.showField(f)
		v.showError(lang.L("Cannot save yet"), err)
		return
	}
	p := v.profileFromForm()
	typed := v.typedSecrets()
	sec := v.be.Secrets()
	a := &v.act
	a.save.Disable()
	run(v.br, func() (struct{}, error) {
		if err := v.be.SaveProfile(p); err != nil {
			return struct{}{}, err
		}
		for kind, val := range typed {
			if err := sec.Set(p.Name, kind, val); err != nil {
				return struct{}{}, &secretSaveError{kind: kind, err: err}
			}
		}
		return struct{}{}, nil
	}, func(_ struct{}, err error) {
		if err != nil {
			v.updateActions()
			var fe *store.FieldError
			if errors.As(err, &fe) {
				if f := v.fieldByKey(fe.Key); f != nil {
					v.showField(f)
				}
			}
			v.showError(lang.L("Could not save ")+p.Name, err)
			return
		}
		v.saved = p
		v.isNew = false
		for kind := range typed {
			v.stored[kind] = true
		}
		v.loading = true
		v.security.password.SetText("")
		v.oauth.clientSecret.SetText("")
		v.loading = false
		v.dirty = false
		v.revalidate()
		v.profiles.reload(p.Name)
		if next != nil {
			next()
		}
	})
}

// secretSaveError says which secret could not be stored (never its value).
type secretSaveError struct {
	kind string
	err  error
}

func (e *secretSaveError) Error() string {
	return lang.L("the profile was saved, but the ") + strings.ReplaceAll(e.kind, "-", " ") + lang.L(" could not be stored in the keyring: ") + e.err.Error()
}

func (e *secretSaveError) Unwrap() error { return e.err }

// runCheck runs the same check as `mailmover check` and shows the result in words.
func (v *view) runCheck() {
	a := &v.act
	p := v.profileFromForm()
	sec := v.secretsForRun()
	a.checking = true
	a.check.SetText(lang.L("Checking…"))
	v.updateActions()
	ctx, cancel := context.WithTimeout(v.ctx, defaultActionTimeout)
	run(v.br, func() (*CheckReport, error) {
		defer cancel()
		return v.be.Check(ctx, p, sec)
	}, func(rep *CheckReport, err error) {
		a.checking = false
		a.check.SetText(lang.L("Check"))
		v.updateActions()
		if err != nil && rep == nil {
			v.showError(lang.L("Check failed"), err)
			return
		}
		title := lang.L("Check passed")
		if !rep.OK || err != nil {
			title = lang.L("Check found problems")
		}
		lines := append([]string(nil), rep.Lines...)
		if err != nil {
			text, advice := v.be.DescribeError(err)
			lines = append(lines, "✗ "+firstNonEmpty(text, err.Error()))
			if advice != "" {
				lines = append(lines, lang.L("  What to do: ")+advice)
			}
		}
		v.showMessage(title, strings.Join(lines, "\n"))
	})
}

// startLogin runs GET: the sign-in flow in the background, with progress and Cancel.
func (v *view) startLogin() {
	t := &v.oauth
	a := &v.act
	if a.loginCancel != nil {
		return
	}
	if why := v.oauthProblem(); why != "" {
		// GET is disabled then; this guards every other way in.
		v.setLoginResult(why)
		return
	}
	p := v.profileFromForm()
	sec := v.secretsForRun()
	ctx, cancel := context.WithTimeout(v.ctx, loginTimeout)
	a.loginCancel = cancel
	t.getBox.Objects = []fyne.CanvasObject{container.NewHBox(
		container.NewGridWrap(fyne.NewSize(180, t.cancel.MinSize().Height), t.progress), t.cancel)}
	t.progress.Start()
	t.getBox.Refresh()
	v.setLoginResult(lang.L("Signing in… finish the sign-in in your browser."))
	t.urlBox.Hide()
	opts := LoginOptions{
		OpenBrowser: func(u string) error {
			parsed, err := parseURL(u)
			if err != nil {
				return err
			}
			errc := make(chan error, 1)
			v.br.ui(func() { errc <- v.app.OpenURL(parsed) })
			select {
			case err := <-errc:
				return err
			case <-ctx.Done():
				return ctx.Err()
			}
		},
		OnURL: func(u string) {
			v.br.ui(func() {
				t.urlEntry.SetText(u)
				t.urlBox.Show()
			})
		},
		OnDeviceCode: func(code, verifyURL string) {
			v.br.ui(func() { v.showDeviceCode(code, verifyURL) })
		},
		OnPasteRefused: func(err error) {
			text, _ := v.be.DescribeError(err)
			v.br.ui(func() { v.setLoginResult(lang.L("That address was not taken: ") + text) })
		},
	}
	pr, pw := io.Pipe()
	opts.Paste, t.paste = pr, pw
	run(v.br, func() (*LoginResult, error) {
		defer cancel()
		defer pw.Close()
		return v.be.Login(ctx, p, sec, opts)
	}, func(res *LoginResult, err error) {
		a.loginCancel = nil
		t.paste = nil
		t.progress.Stop()
		t.getBox.Objects = []fyne.CanvasObject{container.NewHBox(t.get)}
		t.getBox.Refresh()
		t.urlBox.Hide()
		v.showDeviceCode("", "")
		v.updateGet()
		v.updateActions()
		if err != nil {
			if errors.Is(err, context.Canceled) {
				v.setLoginResult(lang.L("Sign-in cancelled."))
				return
			}
			v.setLoginResult(lang.L("Sign-in failed."))
			v.showError(lang.L("Sign-in failed"), err)
			return
		}
		msg := lang.L("Signed in.")
		if !res.RefreshToken {
			msg += lang.L(" No refresh token was issued: add offline_access to the scope, or MailMover must sign in again when the access token expires.")
		}
		for _, w := range res.Warnings {
			msg += "\n⚠ " + w
		}
		v.setLoginResult(msg)
		v.showTokenState(TokenState{RefreshToken: res.RefreshToken, AccessToken: true, Expiry: res.Expiry})
	})
}

// cancelLogin stops a running GET.
func (v *view) cancelLogin() {
	if v.act.loginCancel != nil {
		v.act.loginCancel()
	}
}

func (v *view) loginRunning() bool { return v.act.loginCancel != nil }

// refreshTokenState reads the token state of the current profile in the background.
func (v *view) refreshTokenState() {
	name := v.profileName
	if name == "" {
		v.showTokenState(TokenState{})
		return
	}
	ctx, cancel := context.WithTimeout(v.ctx, 10*time.Second)
	run(v.br, func() (TokenState, error) {
		defer cancel()
		return v.be.TokenState(ctx, name)
	}, func(ts TokenState, err error) {
		if name != v.profileName {
			return
		}
		if err != nil {
			v.oauth.tokenState.SetText(lang.L("Tokens: unknown (") + firstLine(err.Error()) + ")")
			return
		}
		v.showTokenState(ts)
	})
}

// startMover starts the mover of the selected profile (saving first if needed); other
// profiles' movers go on.
func (v *view) startMover() {
	if v.runningProfile(v.profileName) {
		return
	}
	if v.dirty || v.isNew {
		d := dialog.NewConfirm(lang.L("Save changes?"), lang.L("The mover runs the saved profile. Save your changes and start?"),
			func(ok bool) {
				if ok {
					v.saveThen(v.startSaved)
				}
			}, v.win)
		d.SetConfirmText(lang.L("Save and start"))
		d.Show()
		return
	}
	v.startSaved()
}

// startSaved starts the mover on the saved profile of the form.
func (v *view) startSaved() {
	if v.saved == nil {
		return
	}
	p := *v.saved
	v.startProfile(&p, false)
}

// showMessage shows a plain text in a dialog.
func (v *view) showMessage(title, text string) {
	lbl := widget.NewLabel(text)
	lbl.Wrapping = fyne.TextWrapWord
	d := newDialog(title, lbl, v.win)
	d.Resize(fyne.NewSize(560, 0))
	d.Show()
	v.lastDialog = text
}

func newDialog(title string, content fyne.CanvasObject, w fyne.Window) dialog.Dialog {
	return dialog.NewCustom(title, lang.L("Close"), content, w)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// parseURL parses a sign-in URL for App.OpenURL.
func parseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf(lang.L("the sign-in URL is not valid: %w"), err)
	}
	return u, nil
}

// addShortcuts binds the keyboard: Ctrl+S saves, Ctrl+R starts, Ctrl+. stops (the
// profile in the form), Ctrl+L runs GET, Ctrl+1…7 switch tabs (Cmd on macOS).
func (v *view) addShortcuts() {
	if v.win == nil {
		return
	}
	mod := fyne.KeyModifierShortcutDefault
	bind := func(key fyne.KeyName, b *widget.Button) {
		v.win.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: key, Modifier: mod}, func(fyne.Shortcut) {
			if b != nil && !b.Disabled() && b.OnTapped != nil {
				b.OnTapped()
			}
		})
	}
	bind(fyne.KeyS, v.act.save)
	bind(fyne.KeyR, v.act.start)
	bind(fyne.KeyPeriod, v.act.stop)
	bind(fyne.KeyL, v.oauth.get)
	for i, key := range []fyne.KeyName{fyne.Key1, fyne.Key2, fyne.Key3, fyne.Key4, fyne.Key5, fyne.Key6, fyne.Key7} {
		v.win.Canvas().AddShortcut(&desktop.CustomShortcut{KeyName: key, Modifier: mod}, func(fyne.Shortcut) {
			if i < len(v.tabs.Items) {
				v.tabs.SelectIndex(i)
			}
		})
	}
}
