#!/usr/bin/env bash
# `make bench`: MailMover side by side with mbsync, offlineimap and fetchmail, plus the
# memory and IDLE-latency benchmarks; prints a table and writes docs/benchmarks.md.
#
#   bash scripts/bench.sh [mm-bench flags]      e.g.  -n 500 -reps 2   (defaults: -n 2000 -reps 3)
#   BENCH_CMD=compare|mem|idle|all (default all)
#
# It installs the peers when missing (Debian isync, offlineimap3, fetchmail), starts a
# private Dovecot (scripts/bench-dovecot.sh, ports 11143/11993, its own folder
# $MM_BENCH_DIR, default ${TMPDIR:-/tmp}/mailmover-bench), builds mailmover and mm-bench,
# and runs them inside a private D-Bus session with a throw-away gnome-keyring (the bench
# profiles' password lives there, never in the user's keyring). The seeded mailbox is kept
# between runs (re-seeding takes ~40 s); the Dovecot is stopped at the end.
# For the soak (BENCH_CMD=soak) it also starts the test OpenID provider (cmd/mm-testprovider,
# 127.0.0.1:MM_BENCH_OIDC_PORT, default 11980) that the bench Dovecot asks about XOAUTH2
# tokens, exports MM_BENCH_OIDC_ISSUER/_USER/_PASSWORD, and stops it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
export MM_BENCH_DIR="${MM_BENCH_DIR:-${TMPDIR:-/tmp}/mailmover-bench}"
mkdir -p "$MM_BENCH_DIR/bin"

if [ "${1:-}" != "--in-session" ]; then
  # --- outside the session: peers, builds, then re-exec under dbus-run-session ----------
  need=()
  command -v mbsync >/dev/null || need+=(isync)
  command -v offlineimap >/dev/null || need+=(offlineimap3)
  command -v fetchmail >/dev/null || need+=(fetchmail)
  [ -x /usr/bin/time ] || need+=(time)   # GNU time: the peak RSS of each client
  command -v dovecot >/dev/null || need+=(dovecot-imapd)
  command -v gnome-keyring-daemon >/dev/null || need+=(gnome-keyring)
  command -v dbus-run-session >/dev/null || need+=(dbus)
  if ((${#need[@]})); then
    echo "bench: installing ${need[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get install -y "${need[@]}" >/dev/null 2>&1 || {
      $SUDO apt-get update >/dev/null && $SUDO apt-get install -y "${need[@]}" >/dev/null
    }
  fi
  scripts/setup.sh --build   # Fyne's C headers: mailmover is built with its window
  echo "bench: building mailmover and mm-bench ($(date +%T))"
  go build -o "$MM_BENCH_DIR/bin/mailmover" .
  go build -o "$MM_BENCH_DIR/bin/mm-bench" ./bench/cmd/mm-bench
  if [ "${BENCH_CMD:-all}" = soak ]; then
    go build -o "$MM_BENCH_DIR/bin/mm-testprovider" ./cmd/mm-testprovider
  fi
  exec dbus-run-session -- bash "$0" --in-session "$@"
fi
shift

# --- inside the session: keyring, Dovecot, the benchmark -----------------------------------
PRIV="$(mktemp -d "${TMPDIR:-/tmp}/mailmover-bench-keyring.XXXXXX")"
chmod 0700 "$PRIV"
KEYRING_PID="" PROVIDER_PID=""
cleanup() {
  local rc=$?
  bash "$ROOT/scripts/bench-dovecot.sh" stop || true
  if [ -n "$PROVIDER_PID" ]; then kill "$PROVIDER_PID" 2>/dev/null && wait "$PROVIDER_PID" 2>/dev/null || true; fi
  [ -n "$KEYRING_PID" ] && kill "$KEYRING_PID" 2>/dev/null || true
  rm -rf "$PRIV"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export XDG_RUNTIME_DIR="$PRIV/runtime" XDG_DATA_HOME="$PRIV/data"
mkdir -m 0700 -p "$XDG_RUNTIME_DIR" "$XDG_DATA_HOME"
keyring_env="$(echo -n "mailmover-bench" | gnome-keyring-daemon --unlock --components=secrets)"
while IFS= read -r line; do
  [ -n "$line" ] && export "${line?}"
done <<<"$keyring_env"
KEYRING_PID="${GNOME_KEYRING_PID:-}"

bash "$ROOT/scripts/bench-dovecot.sh" start
# shellcheck disable=SC1091
. "$MM_BENCH_DIR/dovecot/env.sh"

if [ "${BENCH_CMD:-all}" = soak ]; then
  # The test OpenID provider, whose user is the bench mail user (XOAUTH2 at the bench Dovecot).
  OIDC_PORT="${MM_BENCH_OIDC_PORT:-11980}"
  if (exec 3<>"/dev/tcp/127.0.0.1/$OIDC_PORT") 2>/dev/null; then
    echo "bench: port $OIDC_PORT on 127.0.0.1 is in use; set MM_BENCH_OIDC_PORT" >&2
    exit 1
  fi
  rm -f "$MM_BENCH_DIR/oidc.env" "$MM_BENCH_DIR/provider.log"   # (an old "ready" must not count)
  "$MM_BENCH_DIR/bin/mm-testprovider" -addr "127.0.0.1:$OIDC_PORT" -user "$MM_BENCH_USER" \
    -password "$(openssl rand -hex 12)" -env-file "$MM_BENCH_DIR/oidc.env" >"$MM_BENCH_DIR/provider.log" 2>&1 </dev/null &
  PROVIDER_PID=$!
  for _ in $(seq 150); do
    [ -s "$MM_BENCH_DIR/oidc.env" ] && grep -q "mm-testprovider ready" "$MM_BENCH_DIR/provider.log" 2>/dev/null && break
    kill -0 "$PROVIDER_PID" 2>/dev/null || break
    sleep 0.2
  done
  if [ ! -s "$MM_BENCH_DIR/oidc.env" ] || ! grep -q "mm-testprovider ready" "$MM_BENCH_DIR/provider.log" 2>/dev/null; then
    tail -n 20 "$MM_BENCH_DIR/provider.log" >&2 || true
    echo "bench: the test provider did not start on 127.0.0.1:$OIDC_PORT" >&2
    exit 1
  fi
  # shellcheck disable=SC1091
  . "$MM_BENCH_DIR/oidc.env"
  export MM_BENCH_OIDC_ISSUER="$MM_OIDC_ISSUER" MM_BENCH_OIDC_USER="$MM_OIDC_USER" MM_BENCH_OIDC_PASSWORD="$MM_OIDC_PASSWORD"
  echo "bench: test provider on $MM_BENCH_OIDC_ISSUER (user $MM_BENCH_OIDC_USER)"
fi

echo "bench: $(nproc) CPU(s), load $(cut -d' ' -f1-3 /proc/loadavg) ($(date +%T))"
"$MM_BENCH_DIR/bin/mm-bench" "${BENCH_CMD:-all}" -mailmover "$MM_BENCH_DIR/bin/mailmover" "$@"
