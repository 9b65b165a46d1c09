// Package e2e holds MailMover's end-to-end tests: the real binary, built once per run,
// against the real parts of the test environment (the test OpenID provider, Dovecot, a
// Secret Service, headless Chromium). See mailmover/internal/testenv and README.md.
package e2e
