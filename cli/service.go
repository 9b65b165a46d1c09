package cli

import (
	"context"

	"mailmover/i18n"
)

// The mover as a system service: `mailmover service install|uninstall|start|stop|status`.
// Windows: the Service Control Manager (service_windows.go). Elsewhere not yet
// (service_other.go).

func init() {
	register("service", i18n.Key("the mover (run -all) as a system service: install|uninstall|start|stop|status"), runService)
}

var serviceUsage = i18n.Key(`usage: mailmover service install [-account ACCOUNT] [-home DIR]
       mailmover service uninstall|start|stop|status

Registers the mover ('mailmover run -all': every profile not switched off) as the
Windows service "MailMover", started with the system and restarted after a failure.
  -account  the Windows account it runs as (DOMAIN\user or .\user); its password is
            read from standard input. The service reads that account's secrets from the
            Credential Manager: run 'secret set' and 'login' as that account. The account
            needs the right "Log on as a service". Without -account: LocalSystem.
  -home     the folder of the profiles, state and logs (default: this user's,
            %AppData%\mailmover, or MAILMOVER_HOME). The account must be able to read
            and write it: for another account than yours use a folder such as
            C:\ProgramData\MailMover, with MAILMOVER_HOME set to it for the commands.
status exits 0 when the service runs, 3 when it is stopped, 4 when it is not installed.
It logs to logs/P.log like 'run', and its start, stop and failures to the Event Log
(source "MailMover").`)

func runService(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		i18n.Fprintln(env.Stderr, serviceUsage)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		i18n.Fprintln(env.Stdout, serviceUsage)
		return 0
	}
	return serviceCommand(ctx, args[0], args[1:], env)
}
