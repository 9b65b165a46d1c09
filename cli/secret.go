package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/term"

	"mailmover/auth"
	"mailmover/i18n"
	"mailmover/store"
)

// openSecrets returns the keyring the commands use; tests replace it.
var openSecrets = store.Keyring

// maxSecretInput bounds what `secret set` reads from standard input.
const maxSecretInput = 64 << 10

func init() {
	register("secret", i18n.Key("store or delete a profile's password or client secret in the OS keyring"), runSecret)
}

var secretUsage = i18n.Key(`usage:
  mailmover secret set -profile P client-secret|password     (the value is read from standard input; typed at a terminal, it is not shown)
  mailmover secret set -profile P client-certificate < app.pem     (the PEM private key and its certificate)
  mailmover secret set -profile P service-account < key.json       (a Google service account's JSON key)
  mailmover secret delete -profile P client-secret|password|client-certificate|service-account|refresh-token|access-token`)

func runSecret(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		i18n.Fprintln(env.Stderr, secretUsage)
		return 2
	}
	op := args[0]
	if op != "set" && op != "delete" {
		i18n.Fprintf(env.Stderr, "mailmover secret: unknown action %q\n%s\n", op, i18n.T(secretUsage))
		return 2
	}
	fs := flag.NewFlagSet("secret "+op, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() { i18n.Fprintln(env.Stderr, secretUsage) }
	profile := fs.String("profile", "", i18n.T("profile name"))
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *profile == "" || fs.NArg() != 1 {
		i18n.Fprintf(env.Stderr, "mailmover secret %s: give -profile and one kind of secret\n%s\n", op, i18n.T(secretUsage))
		return 2
	}
	kind := fs.Arg(0)
	allowed := []string{store.SecretClientSecret, store.SecretPassword, store.SecretClientCertificate, store.SecretServiceAccount}
	if op == "delete" {
		allowed = store.SecretKinds
	}
	if !slices.Contains(allowed, kind) {
		i18n.Fprintf(env.Stderr, "mailmover secret %s: %q is not one of %s\n", op, kind, strings.Join(allowed, ", "))
		if op == "set" && (kind == store.SecretRefreshToken || kind == store.SecretAccessToken) {
			i18n.Fprintf(env.Stderr, "tokens are stored by 'mailmover login -profile %s'\n", *profile)
		}
		return 2
	}
	if err := store.ValidProfileName(*profile); err != nil {
		fmt.Fprintf(env.Stderr, "mailmover secret %s: %v\n", op, err) // i18n:keep (command name and a translated error)
		return 2
	}
	home, err := store.HomeFrom(env.Getenv)
	if err != nil {
		fmt.Fprintf(env.Stderr, "mailmover secret %s: %v\n", op, err) // i18n:keep (command name and a translated error)
		return 1
	}
	if op == "set" && !store.ProfileExists(home, *profile) {
		// Allowed (the guides store the secret before writing the profile), but a typo
		// would leave the secret where no profile finds it: say so.
		i18n.Fprintf(env.Stderr, "note: there is no profile %q in %s yet; the secret is kept for a profile of that name\n",
			*profile, store.ProfileDir(home))
	}
	sec := openSecrets()
	if op == "delete" {
		if _, err := sec.Get(*profile, kind); errors.Is(err, store.ErrNoSecret) {
			i18n.Fprintf(env.Stdout, "profile %s had no %s in the keyring; nothing to delete\n", *profile, kind)
			return 0
		}
		if err := sec.Delete(*profile, kind); err != nil {
			fmt.Fprintf(env.Stderr, "mailmover secret delete: %v\n", err) // i18n:keep (command name and a translated error)
			return 1
		}
		i18n.Fprintf(env.Stdout, "deleted the %s of profile %s from the keyring\n", kind, *profile)
		return 0
	}

	var value string
	keyFile := kind == store.SecretClientCertificate || kind == store.SecretServiceAccount
	if _, ok := stdinTerminal(env.Stdin); ok && keyFile {
		i18n.Fprintf(env.Stderr, "mailmover secret set: a %s is a file: give it on standard input, e.g. 'mailmover secret set -profile %s %s < FILE'\n", kind, *profile, kind)
		return 2
	}
	if keyFile {
		value, err = readKeyFile(env.Stdin, kind)
	} else if fd, ok := stdinTerminal(env.Stdin); ok {
		// Typed at a terminal: not echoed, so it does not stay on the screen or in a
		// terminal recording.
		i18n.Fprintf(env.Stderr, "%s of profile %s (typing is not shown): ", kind, *profile)
		line, rerr := readHidden(ctx, fd)
		fmt.Fprintln(env.Stderr) // the Enter the user typed was not echoed either
		if rerr == nil {
			value, err = checkSecret(line)
		} else if ctx.Err() != nil {
			err = i18n.New("cancelled; nothing was stored")
		} else {
			err = i18n.Errorf("reading from the terminal: %w", rerr)
		}
	} else {
		value, err = readSecret(env.Stdin)
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "mailmover secret set: %v\n", err) // i18n:keep (command name and a translated error)
		return 1
	}
	if err := sec.Set(*profile, kind, value); err != nil {
		fmt.Fprintf(env.Stderr, "mailmover secret set: %v\n", err) // i18n:keep (command name and a translated error)
		var tl *store.SecretTooLargeError
		if keyFile && errors.As(err, &tl) {
			field := "client_certificate_file"
			if kind == store.SecretServiceAccount {
				field = "service_account_file"
			}
			i18n.Fprintf(env.Stderr, "  Keep it in a file only the user running MailMover may read (chmod 600) and name the file in the profile's [oauth2] %s instead.\n", field)
		}
		return 1
	}
	i18n.Fprintf(env.Stdout, "stored the %s of profile %s in the keyring (%d characters)\n", kind, *profile, len([]rune(value)))
	return 0
}

// stdinTerminal returns the file descriptor of r when r is a terminal; tests replace it.
var stdinTerminal = func(r io.Reader) (fd int, ok bool) {
	f, isFile := r.(*os.File)
	if !isFile {
		return 0, false
	}
	fd = int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// readHidden reads one line from the terminal fd with echo off (term.ReadPassword, which
// restores the terminal when the line ends). The first SIGINT or SIGTERM (ctx) ends the
// wait at once with the terminal restored too, so the shell is not left without echo.
var readHidden = func(ctx context.Context, fd int) ([]byte, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return nil, err
	}
	type result struct {
		line []byte
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := term.ReadPassword(fd)
		ch <- result{line, err}
	}()
	select {
	case r := <-ch:
		return r.line, r.err
	case <-ctx.Done():
		_ = term.Restore(fd, state)
		return nil, ctx.Err()
	}
}

// readSecret reads a secret from r (a pipe or a file): everything up to EOF, one
// trailing newline ("\n" or "\r\n") dropped, then checkSecret.
func readSecret(r io.Reader) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSecretInput+1))
	if err != nil {
		return "", i18n.Errorf("reading standard input: %w", err)
	}
	if len(data) > maxSecretInput {
		return "", i18n.Errorf("standard input holds more than %s bytes; give only the secret", i18n.FormatInt(maxSecretInput))
	}
	if b, ok := bytes.CutSuffix(data, []byte("\r\n")); ok {
		data = b
	} else {
		data = bytes.TrimSuffix(data, []byte("\n"))
	}
	return checkSecret(data)
}

// checkSecret returns data as the secret. An empty value, one over 64 KiB, one of
// several lines or one with a NUL byte is an error; the value is never part of an error.
func checkSecret(data []byte) (string, error) {
	if len(data) > maxSecretInput {
		return "", i18n.Errorf("standard input holds more than %s bytes; give only the secret", i18n.FormatInt(maxSecretInput))
	}
	if len(data) == 0 {
		return "", i18n.New("standard input is empty; pipe the secret in, e.g. 'printf %s \"$SECRET\" | mailmover secret set …'")
	}
	if bytes.ContainsAny(data, "\n\r") {
		return "", i18n.New("the value has more than one line; give only the secret")
	}
	if bytes.IndexByte(data, 0) >= 0 {
		// No password or client secret holds a NUL (SASL PLAIN uses it as separator):
		// this is binary input, such as a file piped in by mistake.
		return "", i18n.New("the value contains a NUL byte (binary input?); give only the secret, as text")
	}
	return string(data), nil
}

// readKeyFile reads a client certificate (PEM key and certificate) or a service
// account's JSON key from r and checks that it is one, so that a wrong file is refused
// now, not at the next sign-in. Errors never show the content.
func readKeyFile(r io.Reader, kind string) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSecretInput+1))
	if err != nil {
		return "", i18n.Errorf("reading standard input: %w", err)
	}
	if len(data) > maxSecretInput {
		return "", i18n.Errorf("standard input holds more than %s bytes; give only the secret", i18n.FormatInt(maxSecretInput))
	}
	if kind == store.SecretClientCertificate {
		if _, err := auth.ParseClientCertificate(data); err != nil {
			return "", err
		}
	} else if _, err := auth.ParseServiceAccountKey(data); err != nil {
		return "", err
	}
	return string(data), nil
}
