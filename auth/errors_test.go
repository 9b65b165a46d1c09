package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"mailmover/store"
)

func TestDescribeError(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		text   string
		advice string
	}{
		{"aad public client", &ProviderError{Code: "invalid_client", Description: "AADSTS700025: Client is public"}, "AADSTS700025", "public client"},
		{"aad confidential", &TokenError{Op: "code exchange", Code: "invalid_client", Description: "AADSTS7000218: The request body must contain"}, "AADSTS7000218", "client-secret"},
		{"aad consent", &ProviderError{Code: "consent_required", Description: "AADSTS65001: The user or administrator has not consented"}, "consent_required", "Grant admin consent"},
		{"aad redirect", &ProviderError{Code: "invalid_request", Description: "AADSTS50011: The redirect URI 'http://localhost:3017/' does not match"}, "AADSTS50011", "redirect_uri"},
		{"aad lapsed", &ReauthError{Profile: "inv", Code: "invalid_grant", Description: "AADSTS700082: The refresh token has expired due to inactivity."}, "mailmover login -profile inv", "90 days"},
		{"google testing", &ReauthError{Code: "invalid_grant", Description: "Token has been expired or revoked."}, "sign in again", "Testing"},
		{"access denied", &ProviderError{Code: "access_denied", Description: "The user declined"}, "access_denied", "declined"},
		{"invalid scope", &ProviderError{Code: "invalid_scope"}, "invalid_scope", "IMAP.AccessAsUser.All"},
		{"not signed in", &ReauthError{Err: ErrNotSignedIn}, "not signed in", "Sign in first"},
		{"config", &ConfigError{Field: "client_id", Reason: "empty"}, "client_id: empty", "Fix client_id"},
		{"timeout", fmt.Errorf("%w: x", ErrLoginTimeout), "timed out", "within the time limit"},
		{"wrapped", fmt.Errorf("check: %w", &TokenError{Op: "refresh", Code: "invalid_client"}), "invalid_client", "client_id"},
		{"cancel", context.Canceled, "canceled", ""},
		{"keyring", fmt.Errorf("reading: %w", &store.KeyringUnavailableError{Op: "get", Account: "p/refresh-token"}), "no OS keyring", "Secret Service"},
		{"device expired", fmt.Errorf("%w: late", ErrDeviceCodeExpired), "expired", "enter the code sooner"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text, advice := DescribeError(tc.err)
			if !strings.Contains(text, tc.text) || !strings.Contains(advice, tc.advice) || (tc.advice == "" && advice != "") {
				t.Fatalf("DescribeError = %q / %q, want %q / %q", text, advice, tc.text, tc.advice)
			}
		})
	}
	if text, advice := DescribeError(nil); text != "" || advice != "" {
		t.Fatal("nil error described")
	}
}

func TestTokenErrorHidesBody(t *testing.T) {
	re := &oauth2.RetrieveError{
		Response:  &http.Response{StatusCode: 500, Status: "500"},
		Body:      []byte(`{"access_token":"leaked-token"}`),
		ErrorCode: "",
	}
	err := tokenError("refresh", "https://idp.example/token", re)
	if strings.Contains(err.Error(), "leaked-token") {
		t.Fatalf("body in error text: %v", err)
	}
	var te *TokenError
	if !errors.As(err, &te) || te.Status != 500 {
		t.Fatalf("err = %#v", err)
	}
}

func TestCleanProviderText(t *testing.T) {
	s := clean("line1\r\nFAKE LOG LINE\x1b[31m" + strings.Repeat("é", 400))
	if strings.ContainsAny(s, "\r\n\x1b") || len(s) > 510 || !strings.HasSuffix(s, "…") {
		t.Fatalf("clean = %q", s)
	}
}

func TestReauthAdviceNamesTheProfile(t *testing.T) {
	_, adv := DescribeError(&ReauthError{Profile: "invoices", Code: "invalid_grant", Err: errors.New("refused")})
	if !strings.Contains(adv, "mailmover login -profile invoices") || strings.Contains(adv, "PROFILE") {
		t.Errorf("advice does not name the profile: %q", adv)
	}
	_, adv = DescribeError(&ReauthError{Err: ErrNotSignedIn})
	if !strings.Contains(adv, "-profile PROFILE") {
		t.Errorf("advice without a profile lost its placeholder: %q", adv)
	}
}
