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
  echo "bench: building mailmover and mm-bench ($(date +%T))"
  go build -o "$MM_BENCH_DIR/bin/mailmover" .
  go build -o "$MM_BENCH_DIR/bin/mm-bench" ./bench/cmd/mm-bench
  exec dbus-run-session -- bash "$0" --in-session "$@"
fi
shift

# --- inside the session: keyring, Dovecot, the benchmark -----------------------------------
PRIV="$(mktemp -d "${TMPDIR:-/tmp}/mailmover-bench-keyring.XXXXXX")"
chmod 0700 "$PRIV"
KEYRING_PID=""
cleanup() {
  local rc=$?
  bash "$ROOT/scripts/bench-dovecot.sh" stop || true
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

echo "bench: $(nproc) CPU(s), load $(cut -d' ' -f1-3 /proc/loadavg) ($(date +%T))"
"$MM_BENCH_DIR/bin/mm-bench" "${BENCH_CMD:-all}" -mailmover "$MM_BENCH_DIR/bin/mailmover" "$@"
