package auth

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"golang.org/x/oauth2"

	"mailmover/i18n"
)

// callbackResult is what the first valid callback hands to Login.
type callbackResult struct {
	tok *oauth2.Token
	err error
}

// callbackHandler serves the redirect path of one sign-in. A request with a wrong or
// missing state gets 400 and the flow goes on; the first request with the right state
// claims the flow, exchanges the code (so the page can say whether sign-in really
// worked), answers the browser and hands the result over the buffered channel done.
type callbackHandler struct {
	ctx      context.Context // the flow's context, for the exchange
	path     string
	state    string
	exchange func(ctx context.Context, code string) (*oauth2.Token, error)
	logger   *slog.Logger

	claimed atomic.Bool
	done    chan callbackResult // capacity 1; written once
}

func newCallbackHandler(ctx context.Context, path, state string, exchange func(context.Context, string) (*oauth2.Token, error), logger *slog.Logger) *callbackHandler {
	return &callbackHandler{ctx: ctx, path: path, state: state, exchange: exchange, logger: logger, done: make(chan callbackResult, 1)}
}

// closeTab ends the page after a handled answer; translated when the page is written.
var closeTab = i18n.Key("You can close this tab and return to MailMover.")

// ServeHTTP handles one request to the loopback listener.
func (h *callbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != h.path {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, i18n.T("method not allowed"), http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(h.state)) != 1 {
		h.logger.Warn("sign-in: refused a callback with a wrong or missing state; still waiting", "remote", r.RemoteAddr)
		writePage(w, http.StatusBadRequest, page{
			Title:   i18n.T("This answer does not belong to the sign-in in progress"),
			Message: i18n.T("The address lacks the state MailMover sent (it may be an old tab or a forged link), so it was ignored. MailMover is still waiting: finish the sign-in in the tab it opened."),
			Close:   i18n.T("You can close this tab."),
		})
		return
	}
	if !h.claimed.CompareAndSwap(false, true) {
		writePage(w, http.StatusConflict, page{
			Title:   i18n.T("This sign-in was already handled"),
			Message: i18n.T("MailMover has already received the answer to this sign-in."),
			Close:   i18n.T(closeTab),
		})
		return
	}
	res := h.result(q)
	if res.err != nil {
		text, advice := DescribeError(res.err)
		writePage(w, http.StatusOK, page{
			Title:   i18n.T("Sign-in failed"),
			Message: i18n.T("MailMover did not get a token, so sign-in did not work."),
			Detail:  text,
			Advice:  advice,
			Close:   i18n.T(closeTab),
		})
	} else {
		writePage(w, http.StatusOK, page{
			OK:      true,
			Title:   i18n.T("Signed in"),
			Message: i18n.T("Sign-in worked: MailMover received its tokens."),
			Close:   i18n.T(closeTab),
		})
	}
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	h.done <- res
}

// result turns the answer of a claimed flow into its result: the provider's error, or the
// token for the code (exchanged with the flow's PKCE verifier).
func (h *callbackHandler) result(q url.Values) callbackResult {
	var res callbackResult
	switch {
	case q.Get("error") != "":
		res.err = &ProviderError{Code: clean(q.Get("error")), Description: clean(q.Get("error_description")), URI: clean(q.Get("error_uri"))}
	case q.Get("code") == "":
		res.err = &ProviderError{Code: "invalid_request", Description: i18n.T("the provider's answer carried neither a code nor an error")}
	default:
		res.tok, res.err = h.exchange(h.ctx, q.Get("code"))
	}
	return res
}

// PasteError says why a pasted address was not taken as the answer of the sign-in in
// progress; the sign-in goes on waiting (for another paste or the browser).
type PasteError struct {
	Reason string // translated; never holds the code or the state
}

func (e *PasteError) Error() string { return e.Reason }

// paste takes one line pasted by the user (paste-back sign-in) as if the browser had
// delivered it to the listener: the address the browser ended on
// (http://localhost:PORT/PATH?code=…&state=…), or just its query. The state must be this
// flow's, and the first answer (pasted or delivered) wins: the result goes to done as
// the listener's would. An empty line is ignored (nil, false); a refused one returns a
// *PasteError.
func (h *callbackHandler) paste(line string) (taken bool, err error) {
	line = strings.TrimSpace(line)
	if line == "" {
		return false, nil
	}
	q, err := pastedQuery(line, h.path)
	if err != nil {
		return false, err
	}
	state := q.Get("state")
	if state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(h.state)) != 1 {
		h.logger.Warn("sign-in: refused a pasted address with a wrong or missing state; still waiting")
		return false, &PasteError{Reason: i18n.T("the pasted address does not belong to this sign-in (its state differs: an old or another sign-in's address); paste the address the browser shows after this sign-in")}
	}
	if !h.claimed.CompareAndSwap(false, true) {
		return false, &PasteError{Reason: i18n.T("this sign-in was already handled")}
	}
	h.done <- h.result(q)
	return true, nil
}

// pastedQuery returns the query of a pasted redirect address (or of a bare query, with
// or without its "?"), refusing an address of another path or one with neither a code
// nor an error.
func pastedQuery(line, path string) (url.Values, error) {
	notIt := &PasteError{Reason: i18n.T("that is not the address the sign-in ended on; copy the whole address from the browser's address bar (it starts with the redirect URI and holds code= and state=)")}
	raw := line
	if i := strings.Index(line, "://"); i >= 0 {
		u, err := url.Parse(line)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, notIt
		}
		p := u.Path
		if p == "" {
			p = "/"
		}
		if p != path {
			return nil, &PasteError{Reason: i18n.Sprintf("the pasted address has the path %q, but the redirect URI's is %q; paste the address the browser ended on after this sign-in", p, path)}
		}
		raw = u.RawQuery
	} else {
		raw = strings.TrimPrefix(raw, "?")
	}
	q, err := url.ParseQuery(raw)
	if err != nil || (q.Get("code") == "" && q.Get("error") == "") {
		return nil, notIt
	}
	return q, nil
}
