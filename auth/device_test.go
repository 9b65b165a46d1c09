package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func deviceLogin(t *testing.T, p *fakeProvider) (*Result, DeviceCode, error) {
	t.Helper()
	cfg := p.config("")
	cfg.Flow = "device"
	var code DeviceCode
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := LoginDevice(ctx, cfg, DeviceOptions{OnCode: func(c DeviceCode) { code = c }, Logger: quiet})
	return res, code, err
}

func TestLoginDeviceSuccess(t *testing.T) {
	p := newFakeProvider(t)
	p.device = []string{"pending", "ok"}
	res, code, err := deviceLogin(t, p)
	if err != nil {
		t.Fatal(err)
	}
	if code.UserCode != "WDJB-MJHT" || !strings.HasSuffix(code.VerificationURI, "/activate") || code.Expiry.IsZero() {
		t.Fatalf("code = %+v", code)
	}
	if res.Token.AccessToken == "" || res.Token.RefreshToken == "" {
		t.Fatalf("token = %+v", res.Token)
	}
}

func TestLoginDeviceSlowDown(t *testing.T) {
	if testing.Short() {
		t.Skip("slow_down adds 5 s to the poll interval")
	}
	p := newFakeProvider(t)
	p.device = []string{"slow_down", "ok"}
	start := time.Now()
	if _, _, err := deviceLogin(t, p); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 6*time.Second {
		t.Fatalf("finished after %v: slow_down was not honoured", d)
	}
}

func TestLoginDeviceRefusals(t *testing.T) {
	for _, tc := range []struct {
		answer string
		check  func(error) bool
		advice string
	}{
		{"access_denied", func(err error) bool { var te *TokenError; return errors.As(err, &te) && te.Code == "access_denied" }, "declined"},
		{"expired_token", func(err error) bool { return errors.Is(err, ErrDeviceCodeExpired) }, "expired"},
	} {
		t.Run(tc.answer, func(t *testing.T) {
			p := newFakeProvider(t)
			p.device = []string{tc.answer}
			_, _, err := deviceLogin(t, p)
			if err == nil || !tc.check(err) {
				t.Fatalf("err = %v", err)
			}
			if _, advice := DescribeError(err); !strings.Contains(advice, tc.advice) {
				t.Fatalf("advice = %q", advice)
			}
		})
	}
}

func TestLoginDeviceCancel(t *testing.T) {
	p := newFakeProvider(t)
	p.device = []string{"pending", "pending", "pending", "pending", "pending"}
	cfg := p.config("")
	ctx, cancel := context.WithCancel(context.Background())
	_, err := LoginDevice(ctx, cfg, DeviceOptions{OnCode: func(DeviceCode) { cancel() }, Logger: quiet})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}
