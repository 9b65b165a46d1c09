// Package demo is MailMover's built-in demo: inside the process and on loopback only, an
// OAuth2 sign-in server (demo/signin, a small authorization server written for the demo,
// with a login page that shows the demo user and password) and an IMAP server accepting
// XOAUTH2 and OAUTHBEARER with that server's tokens (internal/memimap), holding about
// twenty sample messages — PDF invoices, CSV reports, a forwarded message, hostile and
// encoded file names — plus a new message every few seconds, so IDLE pickup is visible.
// Start also writes a ready profile "demo" that points at both servers and saves to
// ./mailmover-demo/.
//
// `mailmover demo` opens the window on that profile; `mailmover demo -headless` signs in
// through the browser itself and runs the mover until SIGINT or SIGTERM (RunHeadless).
//
// The demo links no library's example code: its sign-in server is its own (see package
// signin for why), and TestShippedProgramLinksNoExampleCode keeps it that way. The test
// provider (internal/oidcdev, cmd/mm-testprovider) stays test tooling.
package demo
