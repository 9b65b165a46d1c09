package mover

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"mailmover/store"
)

func TestSourceConfig(t *testing.T) {
	p := store.DefaultProfile("box")
	p.Setup.Host, p.Setup.Username, p.Setup.Folder = "imap.example.com", "u@example.com", "Invoices"
	p.Security.CAFile = "/etc/ssl/ca.pem"
	sec := store.NewMemorySecrets()

	// OAuth2: a token function, no password.
	p.OAuth2.ClientID = "client"
	cfg, err := SourceConfig(p, sec, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Token == nil || cfg.Password != "" || cfg.Host != "imap.example.com" || cfg.Port != 993 ||
		cfg.Folder != "Invoices" || cfg.CAFile != "/etc/ssl/ca.pem" || !cfg.VerifyCertificate || cfg.Auth != store.AuthXOAuth2 {
		t.Errorf("oauth2 config: %+v", cfg)
	}

	// Password: from the keyring, with a clear error when missing.
	p.Security.Auth = store.AuthPassword
	_, err = SourceConfig(p, sec, nil)
	if !errors.Is(err, store.ErrNoSecret) || !strings.Contains(err.Error(), "mailmover secret set -profile box password") {
		t.Errorf("missing password: %v", err)
	}
	sec.Set("box", store.SecretPassword, "hunter2")
	cfg, err = SourceConfig(p, sec, nil)
	if err != nil || cfg.Password != "hunter2" || cfg.Token != nil {
		t.Errorf("password config: %v, %+v", err, cfg.Auth)
	}

	p.Security.Auth = "kerberos"
	if _, err := SourceConfig(p, sec, nil); err == nil {
		t.Error("unknown auth accepted")
	}
	if _, err := SourceConfig(nil, sec, nil); err == nil {
		t.Error("nil profile accepted")
	}
}

// renewSource is an auth.Source that records how it was asked.
type renewSource struct {
	calls []string
	n     int
}

func (r *renewSource) AccessToken(_ context.Context, force bool) (string, error) {
	r.n++
	r.calls = append(r.calls, fmt.Sprintf("access force=%v", force))
	return fmt.Sprintf("t%d", r.n), nil
}

func (r *renewSource) Renew(_ context.Context, refused string) (string, error) {
	r.n++
	r.calls = append(r.calls, "renew "+refused)
	return fmt.Sprintf("t%d", r.n), nil
}

// The run's token func replaces the token it handed out last when the server refuses
// one, so a token refused right after its refresh is not handed back.
func TestTokenFuncRenewsTheTokenHandedOut(t *testing.T) {
	src := &renewSource{}
	tok := tokenFunc(src)
	ctx := context.Background()
	for _, force := range []bool{false, true, true, false} {
		if _, err := tok(ctx, force); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"access force=false", "renew t1", "renew t2", "access force=false"}
	if !slices.Equal(src.calls, want) {
		t.Errorf("calls %q, want %q", src.calls, want)
	}
}
