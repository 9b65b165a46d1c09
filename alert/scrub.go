package alert

import (
	"regexp"
	"strings"
)

// The texts of an alert come from the engine's events, which never carry a secret. Scrub
// is a second line all the same: what leaves the machine in an alert goes to a chat
// channel or another program, so anything shaped like a credential is hidden before.

// hidden replaces what Scrub hides.
const hidden = "[hidden]"

// credentialNames are the names of fields that hold a credential.
const credentialNames = `access_token|refresh_token|id_token|client_secret|client_assertion|code_verifier|password|passwd|sig|code|token|secret|apikey|api_key`

var scrubbers = []struct {
	re   *regexp.Regexp
	repl string
}{
	// Authorization: Bearer … / Basic …
	{regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{8,}`), "${1}${2}" + hidden},
	// key=value (query strings, form bodies) and key = "value", "key": "value" (TOML,
	// JSON) of credential names; "code=…" as a placeholder stays.
	{regexp.MustCompile(`(?i)\b(` + credentialNames + `)=([^\s&"',;}\x01…]+)`), "${1}=" + hidden},
	{regexp.MustCompile(`(?i)\b(` + credentialNames + `)("?\s*[:=]\s*["'])[^"'\n]+`), "${1}${2}" + hidden},
	// user:password@ in a URL
	{regexp.MustCompile(`(://)[^/\s:@]+:[^/\s@]+@`), "${1}" + hidden + "@"},
	// a JSON Web Token
	{regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`), hidden},
	// Slack and Teams webhook addresses (themselves credentials)
	{regexp.MustCompile(`(?i)https://hooks\.slack\.com/[^\s"']+`), "https://hooks.slack.com/" + hidden},
	{regexp.MustCompile(`(?i)(https://[a-z0-9.-]*(?:logic\.azure\.com|powerautomate\.com|powerplatform\.com|webhook\.office\.com))(?::\d+)?/[^\s"']+`), "${1}/" + hidden},
}

// Scrub hides what looks like a credential in s: bearer and basic credentials, values of
// credential-named fields (password=…, "access_token": "…", sig=…), a URL's user:password,
// JSON Web Tokens and webhook addresses. Control characters other than a newline become
// spaces.
func Scrub(s string) string {
	for _, sc := range scrubbers {
		s = sc.re.ReplaceAllString(s, sc.repl)
	}
	return strings.Map(func(r rune) rune {
		if r == '\n' {
			return r
		}
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
