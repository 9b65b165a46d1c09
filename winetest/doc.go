// Package winetest runs MailMover's Windows build under Wine against the real test
// servers: the console build (mailmover-cli.exe) for version, secret set (Windows
// Credential Manager), check and run -once against the test Dovecot with every file
// exactly once, a kill -9 in the middle of a run and a restart; the GUI build
// (mailmover.exe) under Wine and Xvfb, screenshotted; the MSI installed and removed
// silently with msiexec; and the mover's Windows write-path tests (package mover's
// TestWindows*, cross-compiled) on Wine's file system.
//
// `make test` builds the exes (scripts/build-windows.sh) and a private Wine prefix
// (scripts/wine-prefix.sh) first; without them the tests skip, or fail under
// MM_REQUIRE_REAL=1 (see internal/testenv). Wine is not Windows: what this proves and
// what still needs a real Windows machine is listed in the README's Windows section.
package winetest
