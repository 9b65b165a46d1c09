// Command mm-testprovider runs MailMover's test OAuth2 / OpenID Connect provider
// (internal/oidcdev) on a loopback address for the test environment: one static user, a
// public PKCE client, a confidential web client, a device client and a service user.
//
//	mm-testprovider -addr 127.0.0.1:10980 -user mmtest -password secret -env-file run/oidc.env
//
// It prints one line starting with "mm-testprovider ready" when it serves, and exits on
// SIGINT or SIGTERM. With -env-file it also writes the MM_OIDC_* variables of the test
// environment to that file (mode 0600) before printing the ready line.
//
// It serves the provider's test controls (TEST ONLY, loopback clients only; see
// internal/oidcdev/controls.go) unless -test-controls=false:
//
//	curl -X POST 'http://127.0.0.1:10980/test/expire-access-tokens?client_id=mailmover-faults'
//	curl -X POST 'http://127.0.0.1:10980/test/revoke-refresh-tokens?client_id=mailmover-faults'
//
// end that client's access tokens before their announced expiry, and revoke its refresh
// tokens (without client_id: every client's).
//
//	curl --data-binary @app.crt http://127.0.0.1:10980/test/client-certificate
//
// registers a PEM certificate for the client mailmover-cert, which then authenticates
// by a client assertion signed with its key (client credentials with a certificate).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"mailmover/internal/oidcdev"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback `host:port` to listen on (port 0 = a free port)")
	user := flag.String("user", oidcdev.DefaultUser, "the static user's login name (also its preferred_username)")
	password := flag.String("password", oidcdev.DefaultPassword, "the static user's password")
	envFile := flag.String("env-file", "", "write the MM_OIDC_* variables as shell assignments to this `file`")
	showLogin := flag.Bool("show-login", false, "pre-fill the login form and show the credentials on it")
	controls := flag.Bool("test-controls", true, "serve the test-only endpoints POST /test/expire-access-tokens and /test/revoke-refresh-tokens (loopback clients only)")
	lifetime := flag.Duration("access-token-lifetime", 0, "shorten the access tokens' life to this (0: five minutes)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "mm-testprovider: no arguments expected; see -h")
		os.Exit(2)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, nil)))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := oidcdev.Start(ctx, oidcdev.Options{Addr: *addr, User: *user, Password: *password, ShowLogin: *showLogin,
		TestControls: *controls, AccessTokenLifetime: *lifetime})
	if err != nil {
		fmt.Fprintln(os.Stderr, "mm-testprovider:", err)
		os.Exit(1)
	}
	if *envFile != "" {
		if err := writeEnv(*envFile, s); err != nil {
			fmt.Fprintln(os.Stderr, "mm-testprovider:", err)
			_ = s.Close()
			os.Exit(1)
		}
	}
	fmt.Printf("mm-testprovider ready: issuer %s user %s\n", s.Issuer(), s.User())
	<-ctx.Done()
	_ = s.Close()
	fmt.Println("mm-testprovider stopped")
}

// writeEnv writes the provider's MM_OIDC_* variables, shell-quoted, to path.
func writeEnv(path string, s *oidcdev.Server) error {
	vars := [][2]string{
		{"MM_OIDC_ISSUER", s.Issuer()},
		{"MM_OIDC_USER", s.User()},
		{"MM_OIDC_PASSWORD", s.Password()},
		{"MM_OIDC_NATIVE_CLIENT_ID", s.NativeClientID()},
		{"MM_OIDC_WEB_CLIENT_ID", s.WebClientID()},
		{"MM_OIDC_WEB_CLIENT_SECRET", s.WebClientSecret()},
		{"MM_OIDC_DEVICE_CLIENT_ID", s.DeviceClientID()},
		{"MM_OIDC_FAULTS_CLIENT_ID", oidcdev.FaultsClientID},
		{"MM_OIDC_SERVICE_CLIENT_ID", oidcdev.ServiceClientID},
		{"MM_OIDC_SERVICE_CLIENT_SECRET", oidcdev.ServiceClientSecret},
	}
	var b strings.Builder
	for _, v := range vars {
		fmt.Fprintf(&b, "export %s='%s'\n", v[0], strings.ReplaceAll(v[1], "'", `'\''`))
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("write env file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write env file: %w", err)
	}
	return nil
}
