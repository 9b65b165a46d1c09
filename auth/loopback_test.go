package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"mailmover/store"
)

// hostileLoopbackHosts look like loopback to a careless check (a "127." prefix, a
// trailing dot, a resolver's short or hex form) but are not loopback by store's one rule.
var hostileLoopbackHosts = []string{
	"127.0.0.1.nip.io", "127.evil.example", "127.0.0.1.", "localhost.", "localhost.evil.example",
	"x.localhost", "0x7f.1", "0x7f000001", "0177.0.0.1", "127.1", "2130706433", "0.0.0.0",
	"[::]", "[::1%25lo]", "10.0.0.1", "example.com",
}

// Plain http to an endpoint is allowed only for loopback by the store's rule: no code,
// PKCE verifier or client secret goes to another machine in clear, whichever flow.
func TestPlainHTTPEndpointsOnlyToLoopback(t *testing.T) {
	base := store.OAuth2{Preset: store.PresetCustom, ClientID: "cid", Scope: "imap",
		AuthorizationURL: "https://login.example/authorize", TokenURL: "https://login.example/token",
		DeviceURL: "https://login.example/device", RedirectURI: "http://127.0.0.1:3017/", RedirectPort: 3017}
	for _, h := range hostileLoopbackHosts {
		for _, c := range []struct {
			flow, field string
			set         func(o *store.OAuth2, u string)
		}{
			{store.FlowAuthCode, "token_url", func(o *store.OAuth2, u string) { o.TokenURL = u + "/token" }},
			{store.FlowAuthCode, "authorization_url", func(o *store.OAuth2, u string) { o.AuthorizationURL = u + "/authorize" }},
			{store.FlowDevice, "device_url", func(o *store.OAuth2, u string) { o.DeviceURL = u + "/device" }},
			{store.FlowDevice, "token_url", func(o *store.OAuth2, u string) { o.TokenURL = u + "/token" }},
			{store.FlowClientCredentials, "token_url", func(o *store.OAuth2, u string) { o.TokenURL = u + "/token" }},
			{store.FlowAuthCode, "redirect_uri", func(o *store.OAuth2, u string) { o.RedirectURI = u + ":3017/" }},
		} {
			o := base
			o.Flow = c.flow
			c.set(&o, "http://"+h)
			_, err := ConfigFromProfile(o, "s3cret")
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Field != c.field {
				t.Errorf("%s %s = http://%s…: err %v, want a *ConfigError naming %s", c.flow, c.field, h, err, c.field)
			}
		}
	}
	// The same hosts reach neither the browser flow nor the device flow when a Config is
	// built by hand.
	for _, h := range hostileLoopbackHosts {
		cfg := Config{Flow: store.FlowAuthCode, ClientID: "cid", AuthURL: "https://login.example/authorize",
			TokenURL: "http://" + h + "/token", RedirectURI: "http://127.0.0.1:0/"}
		_, err := Login(context.Background(), cfg, LoginOptions{Timeout: 50 * time.Millisecond, OpenBrowser: func(string) error {
			t.Errorf("token_url http://%s: the browser was opened", h)
			return nil
		}})
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != "token_url" {
			t.Errorf("Login with token_url http://%s: %v", h, err)
		}
		cfg.Flow, cfg.DeviceURL = store.FlowDevice, "https://login.example/device"
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if _, err := LoginDevice(ctx, cfg, DeviceOptions{OnCode: func(DeviceCode) { t.Errorf("token_url http://%s: a code was shown", h) }}); !errors.As(err, &ce) || ce.Field != "token_url" {
			t.Errorf("LoginDevice with token_url http://%s: %v", h, err)
		}
	}
	// Loopback by the rule stays allowed (test providers on this machine).
	for _, u := range []string{"http://127.0.0.1:1/token", "http://LOCALHOST:1/token", "http://[::1]:1/token", "http://127.0.0.2/token"} {
		o := base
		o.Flow = store.FlowAuthCode
		o.TokenURL = u
		if _, err := ConfigFromProfile(o, ""); err != nil {
			t.Errorf("token_url %s: %v", u, err)
		}
	}
}
