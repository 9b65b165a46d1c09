#!/usr/bin/env bash
# Starts MailMover's real test servers on loopback and writes testenv/run/env.sh:
#   - the test OpenID provider (cmd/mm-testprovider, internal/oidcdev)
#   - a private Dovecot (dovecot -c testenv/run/dovecot/dovecot.conf), IMAP with STARTTLS
#     and implicit TLS, a password user and XOAUTH2/OAUTHBEARER validated by
#     introspection against the provider.
# Everything lives in testenv/run/; no system service is used. Idempotent: leftovers of
# an earlier run are stopped first. `source testenv/run/env.sh` gives the MM_* variables
# (see .team/COMMON.md); scripts/testenv-down.sh stops everything.
#
# Ports (override with the variables): MM_TESTENV_IMAP_PORT (10143),
# MM_TESTENV_IMAPS_PORT (10993), MM_TESTENV_OIDC_PORT (10980).
set -euo pipefail
cd "$(dirname "$0")/.."
# Do not pull the servers from under a running `make test` (it holds bin/.test.lock and
# sets MM_TESTENV_LOCKED=1 for its own calls).
if [ -z "${MM_TESTENV_LOCKED:-}" ]; then
  mkdir -p bin
  exec 8>bin/.test.lock
  flock -n 8 || { echo "testenv-up: \`make test\` is running in this tree (bin/.test.lock); try again when it is done" >&2; exit 1; }
  export MM_TESTENV_LOCKED=1   # for testenv-down below; the servers get no fd 8
fi
ROOT="$PWD"
RUN="$ROOT/testenv/run"
IMAP_PORT="${MM_TESTENV_IMAP_PORT:-10143}"
IMAPS_PORT="${MM_TESTENV_IMAPS_PORT:-10993}"
OIDC_PORT="${MM_TESTENV_OIDC_PORT:-10980}"
MAIL_USER="mmtest"            # Dovecot passwd-file user and the provider's login user
OIDC_PASSWORD="mmtest-oidc-pw"   # the provider's login password
WAIT_SECONDS=30

die() { echo "testenv-up: $*" >&2; exit 1; }

"$ROOT/scripts/testenv-down.sh" --quiet

for p in "$IMAP_PORT" "$IMAPS_PORT" "$OIDC_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    die "port $p on 127.0.0.1 is in use by another program; stop it or set MM_TESTENV_*_PORT"
  fi
done

rm -rf "$RUN"
mkdir -p "$RUN"
# Dovecot's own processes (dovecot, dovenull, and nobody for the mail when run as root)
# must reach every file they use, which a checkout in a private folder (under /root, or
# in a mktemp -d) does not allow. Dovecot's tree therefore lives in a world-traversable
# folder of its own; $RUN/dovecot.dir names it, and testenv-down removes it.
DOV="$(mktemp -d /tmp/mailmover-testenv.XXXXXX)"
echo "$DOV" >"$RUN/dovecot.dir"
mkdir -p "$DOV"/{tls,dovecot/base,dovecot/state,mail}
chmod 0755 "$DOV" "$DOV/dovecot" "$DOV/dovecot/base" "$DOV/dovecot/state" "$DOV/mail"

# --- the provider -------------------------------------------------------------------
PROVIDER="${MM_TESTPROVIDER:-$ROOT/bin/mm-testprovider}"
if [ ! -x "$PROVIDER" ]; then
  echo "testenv-up: building $PROVIDER"
  go build -o "$PROVIDER" ./cmd/mm-testprovider
fi
setsid "$PROVIDER" -addr "127.0.0.1:$OIDC_PORT" -user "$MAIL_USER" -password "$OIDC_PASSWORD" \
  -env-file "$RUN/oidc.env" >"$RUN/provider.log" 2>&1 </dev/null 8>&- &
echo $! >"$RUN/provider.pid"

# --- Dovecot ------------------------------------------------------------------------
# Self-signed certificate for localhost and 127.0.0.1 (EC key: no DH parameters needed).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -keyout "$DOV/tls/key.pem" -out "$DOV/tls/cert.pem" >/dev/null 2>&1 \
  || die "openssl could not make the test certificate"
chmod 0600 "$DOV/tls/key.pem"

IMAP_PASSWORD="$(openssl rand -hex 12)"
if [ "$(id -u)" -eq 0 ]; then
  # Dovecot refuses root as a mail user: mail belongs to nobody; its own processes run
  # as the Debian package's users.
  MAIL_UID=nobody MAIL_GID=nogroup INTERNAL_USER=dovecot LOGIN_USER=dovenull
  chown nobody:nogroup "$DOV/mail"
else
  MAIL_UID="$(id -un)" MAIL_GID="$(id -gn)" INTERNAL_USER="$(id -un)" LOGIN_USER="$(id -un)"
fi
printf '%s:{PLAIN}%s\n' "$MAIL_USER" "$IMAP_PASSWORD" >"$DOV/dovecot/passwd"
chmod 0644 "$DOV/dovecot/passwd"   # read by the auth process (test-only password)

# The configuration is shared with the bench Dovecot (scripts/dovecot-conf.sh).
# shellcheck source=scripts/dovecot-conf.sh
. "$ROOT/scripts/dovecot-conf.sh"
dovecot_oauth2_conf "$OIDC_PORT" >"$DOV/dovecot/oauth2.conf.ext"
DC_HEADER="# Private Dovecot for MailMover's tests; written by scripts/testenv-up.sh."
DC_INSTANCE=mailmover-test
DC_BASE_DIR="$DOV/dovecot/base" DC_STATE_DIR="$DOV/dovecot/state" DC_LOG="$DOV/dovecot.log"
DC_CERT="$DOV/tls/cert.pem" DC_KEY="$DOV/tls/key.pem"
DC_INTERNAL_USER="$INTERNAL_USER" DC_LOGIN_USER="$LOGIN_USER" DC_MAIL_UID="$MAIL_UID" DC_MAIL_GID="$MAIL_GID"
DC_IMAP_PORT="$IMAP_PORT" DC_IMAPS_PORT="$IMAPS_PORT"
DC_PASSWD="$DOV/dovecot/passwd" DC_OAUTH2_CONF="$DOV/dovecot/oauth2.conf.ext" DC_HOME="$DOV/mail"
DC_SPECIAL_USE=1 DC_MAX_USERIP=200
dovecot_conf >"$DOV/dovecot/dovecot.conf"

chmod 0644 "$DOV/dovecot/oauth2.conf.ext" "$DOV/dovecot/dovecot.conf"   # whatever the umask
dovecot -c "$DOV/dovecot/dovecot.conf" >"$DOV/dovecot.start.log" 2>&1 8>&- || {
  cat "$DOV/dovecot.start.log" >&2
  tail -n 30 "$DOV/dovecot.log" >&2 2>/dev/null || true
  die "dovecot did not start (config $DOV/dovecot/dovecot.conf)"
}

# --- wait until both answer -------------------------------------------------------------
greets() { # port: does an IMAP greeting arrive on the plain port?
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && head -c 4 <&3" 2>/dev/null | grep -q '^\* OK'
}
deadline=$((SECONDS + WAIT_SECONDS))
until grep -q "mm-testprovider ready" "$RUN/provider.log" 2>/dev/null \
  && curl -fsS -o /dev/null "http://127.0.0.1:$OIDC_PORT/.well-known/openid-configuration"; do
  if ! kill -0 "$(cat "$RUN/provider.pid")" 2>/dev/null || ((SECONDS > deadline)); then
    tail -n 30 "$RUN/provider.log" >&2 || true
    die "the test provider did not come up on 127.0.0.1:$OIDC_PORT within ${WAIT_SECONDS}s (log: $RUN/provider.log)"
  fi
  sleep 0.2
done
tls_greets() { # port: does a verified TLS handshake lead to an IMAP greeting?
  printf 'a LOGOUT\r\n' | timeout 3 openssl s_client -quiet -connect "127.0.0.1:$1" \
    -CAfile "$DOV/tls/cert.pem" -verify_return_error 2>/dev/null | grep -q '^\* OK'
}
until greets "$IMAP_PORT" && tls_greets "$IMAPS_PORT"; do
  if ((SECONDS > deadline)); then
    echo "--- tail of $DOV/dovecot.log" >&2
    tail -n 30 "$DOV/dovecot.log" >&2 || true
    die "dovecot did not answer on 127.0.0.1:$IMAP_PORT/$IMAPS_PORT within ${WAIT_SECONDS}s"
  fi
  sleep 0.2
done

# --- env.sh -------------------------------------------------------------------------------
{
  echo "# MailMover test environment; written by scripts/testenv-up.sh. Source it."
  echo "export MM_DOVECOT_HOST='127.0.0.1'"
  echo "export MM_DOVECOT_IMAP_PORT='$IMAP_PORT'"
  echo "export MM_DOVECOT_IMAPS_PORT='$IMAPS_PORT'"
  echo "export MM_DOVECOT_CA='$DOV/tls/cert.pem'"
  echo "export MM_DOVECOT_USER='$MAIL_USER'"
  echo "export MM_DOVECOT_PASSWORD='$IMAP_PASSWORD'"
  echo "export MM_DOVECOT_LOG='$DOV/dovecot.log'"
  echo "export MM_DOVECOT_CONF='$DOV/dovecot/dovecot.conf'"
  echo "export MM_OIDC_LOG='$RUN/provider.log'"
  cat "$RUN/oidc.env"
} >"$RUN/env.sh.tmp"
chmod 0600 "$RUN/env.sh.tmp"
mv "$RUN/env.sh.tmp" "$RUN/env.sh"
echo "testenv-up: dovecot on 127.0.0.1:$IMAP_PORT (starttls) and :$IMAPS_PORT (tls), provider http://127.0.0.1:$OIDC_PORT; env in $RUN/env.sh"
