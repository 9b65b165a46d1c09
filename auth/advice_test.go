package auth

import (
	"strings"
	"testing"
)

// Each advice of issue 16 point 6, fed the provider's error as it comes (Entra's error
// code and description with the AADSTS number and its usual wording, Google's JSON
// error): the advice names the real cause, and the commands carry the profile.
func TestAdviceNamesTheRealCause(t *testing.T) {
	const trace = " Trace ID: 0c8b2a1e-3f00-4a6b-9c1d-2e7f00000000 Correlation ID: 5d1f0000-0000-0000-0000-000000000000 Timestamp: 2026-11-30 10:00:00Z"
	tests := []struct {
		name      string
		err       error
		want      []string
		notWanted string
	}{
		{"user not assigned", &TokenError{Op: "code exchange", Code: "invalid_grant",
			Description: "AADSTS50105: Your administrator has configured the application MailMover ('00000000-0000-0000-0000-000000000001') to block users unless they are specifically granted ('assigned') access to the application." + trace},
			[]string{"Users and groups", "Assignment required"}, ""},
		{"admin consent needed", &ProviderError{Code: "access_denied",
			Description: "AADSTS90094: The grant requires admin permission." + trace},
			[]string{"Only an administrator", "Grant admin consent"}, ""},
		{"admin consent requested", &ProviderError{Code: "access_denied",
			Description: "AADSTS90095: Admin consent is required for the permissions requested by this application. An admin consent request may be sent to the admin." + trace},
			[]string{"admin consent workflow", "Admin consent requests"}, ""},
		{"mfa registration", &TokenError{Profile: "inv", Op: "device sign-in", Code: "invalid_grant",
			Description: "AADSTS50079: Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication." + trace},
			[]string{"register for multi-factor", "login -profile inv -no-browser"}, ""},
		{"mfa registration interactive", &TokenError{Profile: "inv", Op: "refresh", Code: "interaction_required",
			Description: "AADSTS50072: User needs to enroll for second factor authentication (interactive)." + trace},
			[]string{"register for multi-factor"}, ""},
		{"no exchange service principal", &TokenError{Op: "client credentials", Code: "invalid_resource",
			Description: "AADSTS500011: The resource principal named https://outlook.office365.com was not found in the tenant named Contoso. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant." + trace},
			[]string{"service principal", "Exchange Online subscription", "tenant"}, ""},
		{"no subscription", &ProviderError{Code: "invalid_client",
			Description: "AADSTS650052: The app needs access to a service (\"https://outlook.office.com\") that your organization \"contoso.example\" has not subscribed to or enabled." + trace},
			[]string{"not subscribed", "Exchange Online"}, ""},
		{"consent declined", &ProviderError{Code: "access_denied",
			Description: "AADSTS65004: User declined to consent to access the app." + trace},
			[]string{"declined", "accept"}, ""},
		{"confidential without secret, device flow", &TokenError{Profile: "inv", Op: "device sign-in", Code: "invalid_client",
			Description: "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'." + trace},
			[]string{"Allow public client flows", "device flow needs it", "secret set -profile inv client-secret"}, "PROFILE"},
		{"other tenant", &ProviderError{Code: "invalid_request",
			Description: "AADSTS50020: User account 'someone@fabrikam.example' from identity provider 'https://sts.windows.net/…/' does not exist in tenant 'Contoso' and cannot access the application '…'(MailMover) in that tenant." + trace},
			[]string{"not a member of the app's tenant", "AADSTS50194", "multi-tenant"}, ""},
		{"conditional access", &TokenError{Op: "code exchange", Code: "invalid_grant",
			Description: "AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance." + trace},
			[]string{"legacy authentication", "is not the cause", "Sign-in logs"}, ""},
		{"certificate refused", &TokenError{Profile: "app", Op: "client credentials", Code: "invalid_client",
			Description: "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application." + trace},
			[]string{"Certificates & secrets", "secret set -profile app client-certificate"}, ""},
		{"google client_secret is missing", &TokenError{Profile: "gm", Op: "code exchange", Code: "invalid_request",
			Description: "client_secret is missing."},
			[]string{"Google needs the OAuth client's secret", "secret set -profile gm client-secret"}, "Fix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, advice := DescribeErrorFor(tt.err, "fallback")
			for _, w := range tt.want {
				if !strings.Contains(advice, w) {
					t.Errorf("advice %q lacks %q", advice, w)
				}
			}
			if tt.notWanted != "" && strings.Contains(advice, tt.notWanted) {
				t.Errorf("advice %q has %q", advice, tt.notWanted)
			}
		})
	}
	// An error that does not know its profile gets the name it is described for.
	_, advice := DescribeErrorFor(&TokenError{Op: "refresh", Code: "invalid_client", Description: "AADSTS7000222: The provided client secret keys are expired."}, "inv")
	if !strings.Contains(advice, "-profile inv client-secret") {
		t.Errorf("advice %q", advice)
	}
}
