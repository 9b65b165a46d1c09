//go:build !windows && !linux

package cli

import (
	"context"

	"mailmover/i18n"
)

// serviceCommand: only the Windows service exists so far.
func serviceCommand(ctx context.Context, sub string, args []string, env Env) int {
	i18n.Fprintln(env.Stderr, "mailmover service: not yet on this system; run 'mailmover run -all' from your init system (a systemd unit is planned)")
	return 1
}
