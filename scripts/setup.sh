#!/usr/bin/env bash
# Installs what `make test` needs on a fresh Debian machine. Idempotent: a second run
# only checks and returns within seconds.
#   scripts/setup.sh           everything the tests need
#   scripts/setup.sh --build   only what building and running the program needs
#                              (Fyne's C/GL/X11 headers, a browser opener)
#   scripts/setup.sh --windows only what `make windows` needs (mingw-w64, wixl)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PKGS=(gcc libc6-dev pkg-config libgl-dev libx11-dev libxcursor-dev libxrandr-dev
  libxinerama-dev libxi-dev libxxf86vm-dev xdg-utils)
# Windows: the cross-compiler and the MSI builder; Wine runs the Windows tests.
WINDOWS_PKGS=(gcc-mingw-w64-x86-64 wixl)
# fusefat + dosfstools: a real FAT file system (in user space, no kernel module) for the write path's tests.
APT_PKGS=("${BUILD_PKGS[@]}" "${WINDOWS_PKGS[@]}" wine64 fusefat dosfstools dovecot-imapd gnome-keyring
  libsecret-tools dbus dbus-x11 xvfb x11-apps imagemagick chromium procps openssl curl
  ca-certificates util-linux systemd)
BUILD_ONLY=0
[ "${1:-}" = "--build" ] && { BUILD_ONLY=1; APT_PKGS=("${BUILD_PKGS[@]}"); }
[ "${1:-}" = "--windows" ] && { BUILD_ONLY=1; APT_PKGS=("${WINDOWS_PKGS[@]}"); }

missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
# node and npm may come from elsewhere (e.g. nodesource's nodejs bundles npm, which
# conflicts with Debian's npm package): only ask apt when the commands are missing.
if [ "$BUILD_ONLY" = 0 ]; then
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
fi
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts no services in this container; make sure the system dovecot stays off.
  $SUDO systemctl disable --now dovecot >/dev/null 2>&1 || true
fi

if [ "$BUILD_ONLY" = 1 ]; then
  command -v go >/dev/null || { echo "setup: Go 1.26 is needed (https://go.dev/dl/)" >&2; exit 1; }
  exit 0
fi

# npm: playwright-core drives Debian's chromium for the browser tests.
want_pw="$(node -p "require('./testenv/package.json').dependencies['playwright-core']")"
have_pw="$(node -p "require('./testenv/node_modules/playwright-core/package.json').version" 2>/dev/null || true)"
if [ "$have_pw" != "$want_pw" ]; then
  echo "setup: npm install playwright-core@$want_pw"
  (cd testenv && npm install --no-audit --no-fund --silent >/dev/null)
fi

# The browser the end-to-end tests drive.
[ -x /usr/bin/chromium ] || { echo "setup: /usr/bin/chromium is missing after apt" >&2; exit 1; }

# The service's tests encrypt a credential as 'mailmover service install' does: systemd-creds
# needs the host key, made once (no systemd as PID 1 needed).
if [ "$(id -u)" -eq 0 ] && [ ! -e /var/lib/systemd/credential.secret ] && command -v systemd-creds >/dev/null; then
  systemd-creds setup >/dev/null 2>&1 || echo "setup: systemd-creds setup failed; the service test uses a plain credential" >&2
fi

# Go tools (pinned: a new staticcheck release must not break a green tree by itself).
command -v go >/dev/null || { echo "setup: Go 1.26 is needed (https://go.dev/dl/)" >&2; exit 1; }
STATICCHECK_VERSION=0.8.2   # = staticcheck 2026.2.2
GOBIN="$(go env GOPATH)/bin"
if ! "$GOBIN/staticcheck" -version 2>/dev/null | grep -q "($STATICCHECK_VERSION)"; then
  echo "setup: go install staticcheck v$STATICCHECK_VERSION"
  go install "honnef.co/go/tools/cmd/staticcheck@v$STATICCHECK_VERSION"
fi
echo "setup: ok"
