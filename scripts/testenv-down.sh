#!/usr/bin/env bash
# Stops the servers started by scripts/testenv-up.sh (the private Dovecot and the test
# provider). Safe to run when nothing runs. --quiet: say nothing when nothing was running.
set -euo pipefail
cd "$(dirname "$0")/.."
# Do not pull the servers from under a running `make test` (it holds bin/.test.lock and
# sets MM_TESTENV_LOCKED=1 for its own calls).
if [ -z "${MM_TESTENV_LOCKED:-}" ]; then
  mkdir -p bin
  exec 8>bin/.test.lock
  flock -n 8 || { echo "testenv-down: \`make test\` is running in this tree (bin/.test.lock); try again when it is done" >&2; exit 1; }
fi
RUN="$PWD/testenv/run"
quiet=0; [ "${1:-}" = "--quiet" ] && quiet=1

# stop PIDFILE NAME: TERM, wait up to 10 s, then KILL; only the process recorded there.
stop() {
  local pidfile=$1 name=$2 pid
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  rm -f "$pidfile"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || { ((quiet)) || echo "testenv-down: stopped $name"; return 0; }; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  echo "testenv-down: $name (pid $pid) did not stop on TERM; killed" >&2
}

# Dovecot's tree is outside the checkout (see testenv-up.sh), named in $RUN/dovecot.dir.
DOV="$(cat "$RUN/dovecot.dir" 2>/dev/null || true)"
case "$DOV" in
  /tmp/mailmover-testenv.*)
    stop "$DOV/dovecot/base/master.pid" dovecot
    rm -rf "$DOV" "$RUN/dovecot.dir"
    ;;
esac
stop "$RUN/provider.pid" mm-testprovider
