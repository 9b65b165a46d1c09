#!/usr/bin/env bash
# The body of `make test`, run inside `dbus-run-session` (a private session bus):
# a private gnome-keyring (its own data and runtime folders, never the user's keyring),
# Xvfb for window tests, the real test servers (scripts/testenv-up.sh), then gofmt,
# go vet, staticcheck and go test -race. The servers, the keyring daemon and Xvfb are
# stopped on every exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || { echo "test-in-session: run me under dbus-run-session" >&2; exit 2; }

PRIV="$(mktemp -d /tmp/mailmover-test.XXXXXX)"
chmod 0700 "$PRIV"
KEYRING_PID="" XVFB_PID=""
cleanup() {
  local rc=$?
  "$ROOT/scripts/testenv-down.sh" --quiet || true
  if [ -n "${MM_WINE:-}" ] && [ -n "${MM_WINE_PREFIX:-}" ]; then
    WINEPREFIX="$MM_WINE_PREFIX" "$(dirname "$MM_WINE")/wineserver" -k 2>/dev/null || true
  fi
  [ -n "$KEYRING_PID" ] && kill "$KEYRING_PID" 2>/dev/null || true
  if [ -n "$XVFB_PID" ]; then kill "$XVFB_PID" 2>/dev/null && wait "$XVFB_PID" 2>/dev/null || true; fi
  rm -rf "$PRIV"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One language for every run: UTF-8 C locale for the C programs, English for Fyne's
# translations (go-locale reads LANGUAGE unless the locale is plain "C").
unset LC_ALL LC_MESSAGES
export LANG=C.UTF-8 LANGUAGE=en_US

step() { printf '\n=== %s (%s)\n' "$1" "$(date +%T)"; }

# --- Secret Service: gnome-keyring with a throw-away login keyring -------------------
step "keyring"
export XDG_RUNTIME_DIR="$PRIV/runtime" XDG_DATA_HOME="$PRIV/data"
mkdir -m 0700 -p "$XDG_RUNTIME_DIR" "$XDG_DATA_HOME"
echo -n "mailmover-test" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
# The daemon leaves with the session bus; to stop it early find ours by its runtime dir.
for pid in $(pgrep -u "$(id -u)" gnome-keyring || true); do
  if tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR"; then
    KEYRING_PID=$pid
  fi
done
export MM_KEYRING=1
echo "gnome-keyring unlocked (pid ${KEYRING_PID:-?})"

# --- X server for window tests (MM_DISPLAY); the desktop's display is not used ----------
step "xvfb"
unset DISPLAY WAYLAND_DISPLAY
exec 9>"$PRIV/display"
Xvfb -displayfd 9 -screen 0 1280x1024x24 -nolisten tcp -noreset >"$PRIV/xvfb.log" 2>&1 &
XVFB_PID=$!
for _ in $(seq 50); do [ -s "$PRIV/display" ] && break; sleep 0.1; done
if [ -s "$PRIV/display" ]; then
  export MM_DISPLAY=":$(head -n1 "$PRIV/display")"
  echo "Xvfb on $MM_DISPLAY"
else
  echo "test-in-session: Xvfb did not start; window tests will fail" >&2
  cat "$PRIV/xvfb.log" >&2 || true
fi

# --- real servers --------------------------------------------------------------------------
step "test servers"
scripts/testenv-up.sh
# shellcheck disable=SC1091
. testenv/run/env.sh
export MM_REQUIRE_REAL=1

# --- checks and tests: every step runs, the failures are summed up at the end ----------
failed=()
PKGS="${MM_TEST_PKGS:-./...}"   # e.g. MM_TEST_PKGS=./internal/... for a quick partial run

step "gofmt"
# shellcheck disable=SC2086
unformatted="$(go list -f '{{.Dir}}' $PKGS | while read -r d; do find "$d" -maxdepth 1 -name '*.go'; done | xargs -r gofmt -l)"
if [ -n "$unformatted" ]; then
  echo "gofmt: these files need gofmt -w:"
  echo "$unformatted"
  failed+=(gofmt)
fi

step "go vet"
# shellcheck disable=SC2086
go vet $PKGS || failed+=("go vet")

step "staticcheck"
# shellcheck disable=SC2086
"$(go env GOPATH)/bin/staticcheck" $PKGS || failed+=(staticcheck)

# --- Windows: the exes and the MSI cross-compiled, a private Wine prefix (winetest/) ----
if [ "$PKGS" = "./..." ] || [[ "$PKGS" == *winetest* ]]; then
  step "windows build (make windows)"
  if scripts/build-windows.sh; then
    export MM_WINDOWS_BIN="$ROOT/bin"
    MM_WINDOWS_MSI="$(ls -t "$ROOT"/dist/mailmover-*-x64.msi 2>/dev/null | head -n1)"
    export MM_WINDOWS_MSI
  else
    failed+=("windows build")
  fi
  step "go vet (GOOS=windows)"
  GOOS=windows CGO_ENABLED=0 go vet ./cli/... ./mover/... ./store/... ./auth/... ./imapsrc/... || failed+=("go vet (windows)")
  step "wine prefix"
  if wine_vars="$(scripts/wine-prefix.sh "$PRIV/wine")"; then
    eval "$wine_vars"
    export MM_WINE MM_WINE_PREFIX
  else
    failed+=("wine prefix")
  fi
fi

step "go test -race"
# shellcheck disable=SC2086
go test -race -count=1 -timeout 25m ${MM_TEST_FLAGS:-} $PKGS || failed+=("go test")

# The mover's fake-server suite once more, every fake source fetching in batches (the
# path real servers take), so both fetch paths keep every guarantee.
if [ "$PKGS" = "./..." ] && [ -z "${MM_TEST_FLAGS:-}" ]; then
  step "go test -race ./mover over the batch fetch"
  MM_TEST_FETCH_BATCH=1 go test -race -count=1 -timeout 10m ./mover || failed+=("go test ./mover (batch fetch)")
fi

if ((${#failed[@]})); then
  step "FAILED: ${failed[*]}"
  exit 1
fi
step "all passed"
