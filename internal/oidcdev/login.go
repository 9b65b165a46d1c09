package oidcdev

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
)

var (
	formAction = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	hiddenID   = regexp.MustCompile(`<input[^>]*name="id"[^>]*value="([^"]*)"`)
	formError  = regexp.MustCompile(`<p style="color:red[^"]*">([^<]+)</p>`)
)

// FormLogin signs in through the provider's login page the way a browser would, without
// a browser: it GETs authURL (a complete authorization request), fills the login form
// with user and password, follows the redirects, and returns the first redirect that
// leaves the provider (the client's redirect URI with code and state, or error). It
// never connects to that redirect URI, so nothing has to listen there.
func FormLogin(ctx context.Context, authURL, user, password string) (*url.URL, error) {
	start, err := url.Parse(authURL)
	if err != nil {
		return nil, fmt.Errorf("oidcdev: bad authorization URL: %w", err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, fmt.Errorf("oidcdev: %w", err)
	}
	posted := false
	for range 20 {
		resp, err := c.Do(req)
		if err != nil {
			return nil, fmt.Errorf("oidcdev: sign-in request to %s: %w", req.URL.Redacted(), err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("oidcdev: read sign-in page: %w", err)
		}
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			loc, err := resp.Location()
			if err != nil {
				return nil, fmt.Errorf("oidcdev: redirect without Location: %w", err)
			}
			if loc.Host != start.Host {
				return loc, nil
			}
			if req, err = http.NewRequestWithContext(ctx, http.MethodGet, loc.String(), nil); err != nil {
				return nil, fmt.Errorf("oidcdev: %w", err)
			}
			continue
		}
		page := string(body)
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("oidcdev: %s answered %s: %s", req.URL.Path, resp.Status, strings.TrimSpace(page))
		}
		if m := formError.FindStringSubmatch(page); m != nil && posted {
			return nil, fmt.Errorf("oidcdev: login form refused the sign-in: %s", html.UnescapeString(m[1]))
		}
		act, id := formAction.FindStringSubmatch(page), hiddenID.FindStringSubmatch(page)
		if act == nil || id == nil {
			return nil, errors.New("oidcdev: the provider's page has no login form")
		}
		if posted {
			return nil, errors.New("oidcdev: the login form came back after sign-in (wrong user or password?)")
		}
		target, err := req.URL.Parse(html.UnescapeString(act[1]))
		if err != nil {
			return nil, fmt.Errorf("oidcdev: bad form action: %w", err)
		}
		form := url.Values{"id": {html.UnescapeString(id[1])}, "username": {user}, "password": {password}}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(form.Encode()))
		if err != nil {
			return nil, fmt.Errorf("oidcdev: %w", err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		posted = true
	}
	return nil, errors.New("oidcdev: too many redirects during sign-in")
}

// DeviceApprove completes a device authorization the way a person would on the
// provider's pages: it signs in with user and password for userCode and presses Allow.
// verificationURI is the device authorization response's verification_uri.
func DeviceApprove(ctx context.Context, verificationURI, userCode, user, password string) error {
	base, err := url.Parse(verificationURI)
	if err != nil {
		return fmt.Errorf("oidcdev: bad verification URI: %w", err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	form := url.Values{"user_code": {userCode}, "username": {user}, "password": {password}}
	loginURL := base.ResolveReference(&url.URL{Path: "/device/login"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, loginURL.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("oidcdev: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if _, err := fetch(c, req, "Allow"); err != nil {
		return err
	}
	confirm := base.ResolveReference(&url.URL{Path: "/device/confirm", RawQuery: "action=allowed"})
	if req, err = http.NewRequestWithContext(ctx, http.MethodGet, confirm.String(), nil); err != nil {
		return fmt.Errorf("oidcdev: %w", err)
	}
	_, err = fetch(c, req, "Device authorization allowed")
	return err
}

// fetch runs req and checks that the final page contains want.
func fetch(c *http.Client, req *http.Request, want string) (string, error) {
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("oidcdev: %s %s: %w", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("oidcdev: read %s: %w", req.URL.Path, err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
		return "", fmt.Errorf("oidcdev: %s %s did not succeed (%s, final page %s)", req.Method, req.URL.Path, resp.Status, resp.Request.URL.Path)
	}
	return string(body), nil
}
