// Command mailmover moves mail and attachments out of IMAP mailboxes (Microsoft 365,
// Gmail, any IMAP server) into folders, with OAuth2 sign-in. Without arguments it opens
// the window; see `mailmover help` for the headless commands.
package main

import (
	"os"

	"mailmover/cli"
	_ "mailmover/internal/localeenv" // before fyne reads the locale
	"mailmover/ui"
)

func main() {
	// Texts in the user's language (English or German) for every command, the window's
	// and the engine's alike; installed before anything is said.
	ui.InstallTranslator()
	cli.OpenWindow = func(args []string, o cli.WindowOptions) int {
		return ui.Main(args, ui.Options{Secrets: o.Secrets, Context: o.Context})
	}
	attachConsole(os.Args[1:]) // Windows: a command's output in the console it came from
	os.Exit(cli.Main(os.Args[1:]))
}
