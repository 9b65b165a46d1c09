package demo

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

var (
	loginFormAction = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	loginFormID     = regexp.MustCompile(`<input[^>]*name="id"[^>]*value="([^"]*)"`)
)

// formLogin signs in on the demo's sign-in page the way a browser would, without one: it
// GETs authURL (a complete authorization request), sends the login form with user and
// password, and returns where the server sends the browser (the redirect URI with code
// and state, or error). It never connects to that address.
func formLogin(ctx context.Context, authURL, user, password string) (*url.URL, error) {
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	page, _, err := send(c, get)
	if err != nil {
		return nil, err
	}
	act, id := loginFormAction.FindStringSubmatch(page), loginFormID.FindStringSubmatch(page)
	if act == nil || id == nil {
		return nil, fmt.Errorf("no login form at %s:\n%s", get.URL.Redacted(), page)
	}
	target, err := get.URL.Parse(html.UnescapeString(act[1]))
	if err != nil {
		return nil, err
	}
	form := url.Values{"id": {html.UnescapeString(id[1])}, "username": {user}, "password": {password}}
	post, err := http.NewRequestWithContext(ctx, http.MethodPost, target.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, loc, err := send(c, post)
	if err != nil {
		return nil, err
	}
	if loc == nil {
		return nil, errors.New("the login form came back (wrong user or password?)")
	}
	return loc, nil
}

// send runs req and returns the page, or the redirect's target.
func send(c *http.Client, req *http.Request) (string, *url.URL, error) {
	resp, err := c.Do(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", nil, err
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		loc, err := resp.Location()
		return "", loc, err
	}
	if resp.StatusCode != http.StatusOK {
		return "", nil, fmt.Errorf("%s %s: %s\n%s", req.Method, req.URL.Path, resp.Status, body)
	}
	return string(body), nil, nil
}
