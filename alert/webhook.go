package alert

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"mailmover/i18n"
	"mailmover/store"
)

// maxRedirects caps the redirects a webhook may answer with (each to its own scheme and
// host).
const maxRedirects = 3

// maxResponse is the most of a receiver's answer that is read; maxShown the most of it
// that is logged.
const (
	maxResponse = 64 << 10
	maxShown    = 300
)

// webhook posts alerts to one address.
type webhook struct {
	url     string
	host    string // scheme://host, for logs (the rest of the address is a credential)
	format  string
	timeout time.Duration
	client  *http.Client
}

func newWebhook(w *store.Webhook) *webhook {
	timeout := w.Timeout.Duration
	if timeout <= 0 {
		timeout = store.DefaultWebhookTimeout
	}
	u, _ := url.Parse(w.URL) // checked by store.Settings.Validate
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxResponseHeaderBytes = maxResponse
	client := &http.Client{Timeout: timeout, Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return i18n.Errorf("more than %d redirects", maxRedirects)
			}
			if req.URL.Scheme != u.Scheme || !strings.EqualFold(req.URL.Host, u.Host) {
				return i18n.Errorf("redirected to %s://%s: a webhook is never followed to another host", req.URL.Scheme, req.URL.Host)
			}
			return nil
		}}
	return &webhook{url: w.URL, host: u.Scheme + "://" + u.Host, format: w.WebhookFormat(), timeout: timeout, client: client}
}

// send posts a, bounded by the webhook's timeout; a 2xx answer is success.
func (w *webhook) send(ctx context.Context, a Alert) error {
	body, err := payload(a, w.format)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return errors.New(i18n.T("the webhook's address is not usable")) // never the address itself
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "MailMover")
	resp, err := w.client.Do(req)
	if err != nil {
		// A *url.Error repeats the address, which is a credential: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return i18n.Errorf("no answer within %s", w.timeout)
		}
		return err
	}
	defer resp.Body.Close()
	head := make([]byte, maxShown)
	n, _ := io.ReadFull(io.LimitReader(resp.Body, maxShown), head)
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponse-maxShown))
	if resp.StatusCode/100 != 2 {
		return i18n.Errorf("the receiver answered %s: %s", resp.Status, oneLine(string(head[:n])))
	}
	return nil
}

func (w *webhook) String() string { return w.host }

// oneLine makes a receiver's answer or a command's output fit one log line.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(Scrub(s)), " ")
	if len(s) > maxShown {
		s = s[:maxShown] + "…"
	}
	return s
}
