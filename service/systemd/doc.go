// Package systemd runs MailMover's mover ('mailmover run -all') as a systemd service on
// Linux: it writes the unit (system-wide with a dedicated user, or a user unit with
// lingering), manages it with systemctl, and starts the unattended keyring the unit
// needs at boot.
//
// A server has no unlocked desktop keyring, so the unit's command ('mailmover service
// run', see Session) starts its own private D-Bus session bus and a private
// gnome-keyring-daemon in the service's home, unlocked with a password it reads from a
// systemd credential (LoadCredentialEncrypted=, made with systemd-creds; LoadCredential=
// from a root-only file where systemd-creds is missing; a 0600 file for user units). The
// password is handed to the keyring daemon through a pipe: it is never in an argument
// list, an environment variable or a log line. Every secret stays encrypted at rest in
// the keyring file, and rotated refresh tokens are saved there as usual.
//
// Everything but this comment is Linux-only.
package systemd
