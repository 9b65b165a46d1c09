#!/usr/bin/env bash
# A private Dovecot for MailMover's benchmarks and soak (scripts/bench.sh, scripts/soak.sh),
# separate from the test one (scripts/testenv-up.sh): its own folder, its own ports, a
# password user, implicit TLS on 127.0.0.1. The configuration is testenv-up.sh's
# (scripts/dovecot-conf.sh): the same user also signs in with XOAUTH2/OAUTHBEARER, its
# tokens checked by introspection at the test provider on 127.0.0.1:MM_BENCH_OIDC_PORT
# (11980), which scripts/bench.sh starts for the soak (its login user is MM_BENCH_USER).
#
#   scripts/bench-dovecot.sh start|stop|restart|status
#
# Folder: $MM_BENCH_DIR/dovecot (MM_BENCH_DIR defaults to ${TMPDIR:-/tmp}/mailmover-bench).
# Ports: MM_BENCH_IMAP_PORT (11143, plain/STARTTLS), MM_BENCH_IMAPS_PORT (11993, TLS).
# `start` writes $MM_BENCH_DIR/dovecot/env.sh (MM_BENCH_HOST, MM_BENCH_IMAPS_PORT,
# MM_BENCH_CA, MM_BENCH_USER, MM_BENCH_PASSWORD). The mail (and its seed) survives stop and
# restart; the certificate and the password are made once per folder.
set -euo pipefail
BENCH_DIR="${MM_BENCH_DIR:-${TMPDIR:-/tmp}/mailmover-bench}"
D="$BENCH_DIR/dovecot"
IMAP_PORT="${MM_BENCH_IMAP_PORT:-11143}"
IMAPS_PORT="${MM_BENCH_IMAPS_PORT:-11993}"
OIDC_PORT="${MM_BENCH_OIDC_PORT:-11980}"
MAIL_USER="mmbench"
WAIT_SECONDS=30

die() { echo "bench-dovecot: $*" >&2; exit 1; }

pid_of() { cat "$D/base/master.pid" 2>/dev/null || true; }

running() {
  local pid; pid="$(pid_of)"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

stop() {
  local pid; pid="$(pid_of)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  echo "bench-dovecot: dovecot (pid $pid) did not stop on TERM; killed" >&2
}

configure() {
  mkdir -p "$D"/{tls,base,state} "$BENCH_DIR/mail"
  chmod 0755 "$BENCH_DIR" "$D"
  if [ ! -s "$D/tls/cert.pem" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
      -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -keyout "$D/tls/key.pem" -out "$D/tls/cert.pem" >/dev/null 2>&1 \
      || die "openssl could not make the certificate"
    chmod 0600 "$D/tls/key.pem"
  fi
  if [ ! -s "$D/password" ]; then
    openssl rand -hex 12 >"$D/password"
    chmod 0600 "$D/password"
  fi
  local pw; pw="$(cat "$D/password")"
  if [ "$(id -u)" -eq 0 ]; then
    MAIL_UID=nobody MAIL_GID=nogroup INTERNAL_USER=dovecot LOGIN_USER=dovenull
    chown nobody:nogroup "$BENCH_DIR/mail"
  else
    MAIL_UID="$(id -un)" MAIL_GID="$(id -gn)" INTERNAL_USER="$(id -un)" LOGIN_USER="$(id -un)"
  fi
  printf '%s:{PLAIN}%s\n' "$MAIL_USER" "$pw" >"$D/passwd"
  chmod 0644 "$D/passwd"
  # shellcheck source=scripts/dovecot-conf.sh
  . "$(dirname "${BASH_SOURCE[0]}")/dovecot-conf.sh"
  dovecot_oauth2_conf "$OIDC_PORT" >"$D/oauth2.conf.ext"
  DC_HEADER="# Private Dovecot for MailMover's benchmarks; written by scripts/bench-dovecot.sh."
  DC_INSTANCE=mailmover-bench
  DC_BASE_DIR="$D/base" DC_STATE_DIR="$D/state" DC_LOG="$D/dovecot.log"
  DC_CERT="$D/tls/cert.pem" DC_KEY="$D/tls/key.pem"
  DC_INTERNAL_USER="$INTERNAL_USER" DC_LOGIN_USER="$LOGIN_USER" DC_MAIL_UID="$MAIL_UID" DC_MAIL_GID="$MAIL_GID"
  DC_IMAP_PORT="$IMAP_PORT" DC_IMAPS_PORT="$IMAPS_PORT"
  DC_PASSWD="$D/passwd" DC_OAUTH2_CONF="$D/oauth2.conf.ext" DC_HOME="$BENCH_DIR/mail"
  DC_SPECIAL_USE=0 DC_MAX_USERIP=200
  dovecot_conf >"$D/dovecot.conf"
  chmod 0644 "$D/oauth2.conf.ext" "$D/dovecot.conf"
  {
    echo "# MailMover bench Dovecot; written by scripts/bench-dovecot.sh. Source it."
    echo "export MM_BENCH_HOST='127.0.0.1'"
    echo "export MM_BENCH_IMAPS_PORT='$IMAPS_PORT'"
    echo "export MM_BENCH_CA='$D/tls/cert.pem'"
    echo "export MM_BENCH_USER='$MAIL_USER'"
    echo "export MM_BENCH_PASSWORD='$pw'"
    echo "export MM_BENCH_DOVECOT_LOG='$D/dovecot.log'"
  } >"$D/env.sh"
  chmod 0600 "$D/env.sh"
}

start() {
  if running; then return 0; fi
  for p in "$IMAP_PORT" "$IMAPS_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      die "port $p on 127.0.0.1 is in use by another program; set MM_BENCH_IMAP_PORT / MM_BENCH_IMAPS_PORT"
    fi
  done
  configure
  dovecot -c "$D/dovecot.conf" >"$D/start.log" 2>&1 || {
    cat "$D/start.log" >&2; tail -n 20 "$D/dovecot.log" >&2 2>/dev/null || true
    die "dovecot did not start (config $D/dovecot.conf)"
  }
  local deadline=$((SECONDS + WAIT_SECONDS))
  until printf 'a LOGOUT\r\n' | timeout 3 openssl s_client -quiet -connect "127.0.0.1:$IMAPS_PORT" \
      -CAfile "$D/tls/cert.pem" -verify_return_error 2>/dev/null | grep -q '^\* OK'; do
    if ((SECONDS > deadline)); then
      tail -n 20 "$D/dovecot.log" >&2 || true
      die "dovecot did not answer on 127.0.0.1:$IMAPS_PORT within ${WAIT_SECONDS}s"
    fi
    sleep 0.2
  done
}

case "${1:-}" in
  start) start; echo "bench-dovecot: up on 127.0.0.1:$IMAPS_PORT (TLS); env in $D/env.sh" ;;
  stop) stop ;;
  restart) stop; start ;;
  status) if running; then echo "running (pid $(pid_of))"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|restart|status" >&2; exit 2 ;;
esac
