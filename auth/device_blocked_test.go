package auth

import (
	"context"
	"errors"
	"strings"
	"testing"

	"mailmover/store"
)

// Microsoft's answers when a tenant blocks the device-code flow, as the token endpoint
// sends them to the polling client.
var deviceBlockedAnswers = []struct{ name, code, description string }{
	{"security defaults", "invalid_grant", "AADSTS530035: Access has been blocked by security defaults. This is due to the request using legacy auth or being deemed unsafe by security defaults policies. Trace ID: 0000aaaa-11bb-cccc-dd22-eeeeee333333 Correlation ID: aaaa0000-bb11-2222-33cc-444444dddddd Timestamp: 2026-07-15 09:12:44Z"},
	{"conditional access", "invalid_grant", "AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance. Trace ID: 0000aaaa-11bb-cccc-dd22-eeeeee333333 Correlation ID: aaaa0000-bb11-2222-33cc-444444dddddd Timestamp: 2026-07-15 09:12:44Z"},
}

// A tenant that blocks the device-code flow gets advice that names the way that works:
// the browser sign-in with paste-back or an SSH tunnel, not "ask the admin".
func TestDeviceFlowBlockedByTheTenant(t *testing.T) {
	for _, a := range deviceBlockedAnswers {
		t.Run(a.name, func(t *testing.T) {
			p := newFakeProvider(t)
			p.tokenError, p.tokenErrDesc = a.code, a.description
			cfg := p.config("")
			cfg.Flow = store.FlowDevice
			_, err := LoginDevice(context.Background(), cfg, DeviceOptions{Logger: quiet, OnCode: func(DeviceCode) {}})
			var db *DeviceBlockedError
			if !errors.As(err, &db) {
				t.Fatalf("LoginDevice: %v (%T), want a *DeviceBlockedError", err, err)
			}
			text, advice := DescribeError(err)
			for _, want := range []string{"blocks the device-code sign-in", "-no-browser", "paste-back", "ssh -L PORT:localhost:PORT"} {
				if !strings.Contains(advice, want) {
					t.Errorf("advice lacks %q: %s", want, advice)
				}
			}
			if !strings.Contains(text, a.description[:12]) {
				t.Errorf("text does not name the provider's code: %s", text)
			}
		})
	}
	// Not a block of the flow: other refusals keep their own advice.
	p := newFakeProvider(t)
	p.device = []string{"access_denied"}
	cfg := p.config("")
	cfg.Flow = store.FlowDevice
	_, err := LoginDevice(context.Background(), cfg, DeviceOptions{Logger: quiet, OnCode: func(DeviceCode) {}})
	if errors.As(err, new(*DeviceBlockedError)) {
		t.Fatalf("access_denied taken for a blocked flow: %v", err)
	}
	// In the browser flow AADSTS53003 is Conditional Access in general; 530035 says
	// security defaults and still points away from the device flow.
	for _, a := range deviceBlockedAnswers {
		_, advice := DescribeError(&TokenError{Op: "code exchange", Code: a.code, Description: a.description})
		if strings.Contains(advice, "ssh -L") {
			t.Errorf("%s outside the device flow: %s", a.name, advice)
		}
		if advice == "" {
			t.Errorf("%s outside the device flow: no advice", a.name)
		}
	}
}

// The device flow is refused for Google up front (Google answers invalid_scope for the
// Gmail scope there): no code is shown that can never work.
func TestDeviceFlowRefusedForGoogle(t *testing.T) {
	p := newFakeProvider(t)
	for _, cfg := range []Config{
		func() Config { c := p.config(""); c.Preset = store.PresetGoogle; return c }(),
		{Preset: store.PresetCustom, ClientID: "c", DeviceURL: "https://oauth2.googleapis.com/device/code", TokenURL: "https://oauth2.googleapis.com/token"},
	} {
		cfg.Flow = store.FlowDevice
		_, err := LoginDevice(context.Background(), cfg, DeviceOptions{Logger: quiet, OnCode: func(DeviceCode) {
			t.Error("a device code was shown for Google")
		}})
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != "flow" || !strings.Contains(err.Error(), "invalid_scope") || !strings.Contains(err.Error(), "-no-browser") {
			t.Fatalf("LoginDevice for Google: %v, want a *ConfigError for flow", err)
		}
	}
}
