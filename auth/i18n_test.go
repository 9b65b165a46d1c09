package auth

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"testing"

	"mailmover/i18n"
	"mailmover/store"
)

// germanTranslator reads the German texts of auth and store from the embedded files.
func germanTranslator(t *testing.T) func(string) string {
	t.Helper()
	de := map[string]string{"lang.code": "de"}
	for _, name := range []string{"auth.de.json", "store.de.json"} {
		data, err := fs.ReadFile(i18n.Files, path.Join(i18n.FilesDir, name))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for k, v := range m {
			de[k] = v
		}
	}
	return func(k string) string {
		if v, ok := de[k]; ok {
			return v
		}
		return k
	}
}

func TestGermanTexts(t *testing.T) {
	i18n.SetTranslator(germanTranslator(t))
	defer i18n.SetTranslator(nil)

	// A validation error of store names its field and reads German.
	p := store.DefaultProfile("rechnungen")
	p.Setup.Host = "outlook.office365.com"
	p.Setup.Username = "rechnungen@contoso.example"
	p.OAuth2.ClientID = "00000000-1111-2222-3333-444444444444"
	p.Destination.Folder = "/srv/mail-in"
	p.Setup.Port = 0
	p.OAuth2.RedirectPort = 4000 // differs from the URI's 3017: redirect_port's problem
	fes := store.FieldErrors(p.Validate())
	got := map[string]string{}
	for _, fe := range fes {
		got[fe.Key] = fe.Error()
	}
	if want := "setup.port: 0 ist kein Port (1–65535; IMAPS ist 993, IMAP mit STARTTLS 143)"; got["setup.port"] != want {
		t.Errorf("setup.port: %q, want %q (all: %v)", got["setup.port"], want, fes)
	}
	if w := got["oauth2.redirect_port"]; !strings.Contains(w, "weicht vom Port 3017") {
		t.Errorf("oauth2.redirect_port: %q (all: %v)", w, fes)
	}
	if _, err := store.ParseProfile("x", []byte("[setup]\nport = \"993\"\n")); err == nil ||
		!strings.Contains(err.Error(), "setup.port (Zeile 2): ist eine Zeichenkette; erwartet wird eine Ganzzahl") {
		t.Errorf("ParseProfile: %v", err)
	}

	// auth's field errors and the advice for OAuth errors.
	_, err := ConfigFromProfile(store.OAuth2{Preset: store.PresetMicrosoft}, "")
	if want := "client_id: leer: kopieren Sie die Anwendungs-(Client-)ID der App-Registrierung"; err == nil || err.Error() != want {
		t.Errorf("ConfigFromProfile: %v, want %q", err, want)
	}
	text, advice := DescribeError(&ProviderError{Code: "invalid_client", Description: "AADSTS700025: Client is public"})
	if text != "der Anbieter hat die Anmeldung abgelehnt: invalid_client: AADSTS700025: Client is public" ||
		!strings.HasPrefix(advice, "Die App-Registrierung ist ein öffentlicher Client") {
		t.Errorf("DescribeError = %q / %q", text, advice)
	}
	// The code's "Sign in again." is not said twice when the advice adds where to do it.
	_, advice = DescribeError(&ReauthError{Profile: "x", Code: "invalid_grant", Description: "AADSTS50173: The provided grant has expired"})
	if want := "Das Refresh-Token wurde widerrufen, weil sich das Passwort geändert hat oder Sitzungen widerrufen wurden. Melden Sie sich neu an: klicken Sie im Fenster auf HOLEN, oder führen Sie „mailmover login -profile x“ aus."; advice != want {
		t.Errorf("reauth advice = %q\nwant %q", advice, want)
	}
	// Package-level errors are translated when printed, and still match with errors.Is.
	err = &ReauthError{Profile: "x", Err: ErrNotSignedIn}
	if !errors.Is(err, ErrNotSignedIn) || ErrNotSignedIn.Error() != "nicht angemeldet" ||
		!strings.Contains(err.Error(), "klicken Sie im Fenster auf HOLEN oder führen Sie „mailmover login -profile x“ aus") {
		t.Errorf("ReauthError = %v", err)
	}

	// The browser's page after the redirect.
	h := newCallbackHandler(t.Context(), "/", "s", nil, quiet)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?state=wrong", nil))
	if body := rec.Body.String(); !strings.Contains(body, `<html lang="de">`) ||
		!strings.Contains(body, "Diese Antwort gehört nicht zur laufenden Anmeldung") {
		t.Errorf("page:\n%s", body)
	}
}
