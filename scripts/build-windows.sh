#!/usr/bin/env bash
# `make windows`: cross-compiles MailMover for Windows (amd64) with Debian's mingw-w64 and
# packs the installer.
#   bin/mailmover.exe      GUI subsystem: double-click opens the window, no console
#                          flashes; run from cmd/PowerShell with a command it writes to
#                          that console (console_windows.go)
#   bin/mailmover-cli.exe  console subsystem, the same program: the commands with their
#                          output, standard input and exit code (scripts, scheduled tasks)
#   dist/mailmover-VERSION-x64.msi   both, a Start-menu entry, clean uninstall (wixl)
# Both exes carry the icon and version info (FyneApp.toml) from a .syso resource made by
# go-winres; FyneApp.toml is not changed.
#   MM_WIN_NO_MSI=1   only the exes (the Wine tests)
set -euo pipefail
cd "$(dirname "$0")/.."
GO="${GO:-go}"
WINRES_VERSION=v0.3.3

VERSION="$(sed -n 's/^Version *= *"\([0-9.]*\)".*/\1/p' FyneApp.toml)"
BUILD="$(sed -n 's/^Build *= *\([0-9]*\).*/\1/p' FyneApp.toml)"
[ -n "$VERSION" ] && [ -n "$BUILD" ] || { echo "build-windows: no Version/Build in FyneApp.toml" >&2; exit 1; }

WINRES="$($GO env GOPATH)/bin/go-winres"
if ! $GO version -m "$WINRES" 2>/dev/null | grep -q "go-winres[[:space:]]*$WINRES_VERSION"; then
  echo "build-windows: go install go-winres $WINRES_VERSION"
  $GO install "github.com/tc-hib/go-winres@$WINRES_VERSION"
fi

# The resource is picked up by `go build` from the main package's folder for
# GOOS=windows only; it is made here and removed again (and ignored by git).
SYSO=zz_winres_windows_amd64.syso
trap 'rm -f "$SYSO"' EXIT
"$WINRES" simply --arch amd64 --no-suffix --out "$SYSO" --icon assets/icon.png \
  --manifest gui --product-name MailMover --file-description "MailMover — mail to folders" \
  --product-version "$VERSION.$BUILD" --file-version "$VERSION.$BUILD" \
  --copyright "MailMover authors"
[ -f "$SYSO" ] || { echo "build-windows: go-winres made no $SYSO" >&2; exit 1; }

export CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC="${WINCC:-x86_64-w64-mingw32-gcc}"
mkdir -p bin
echo "build-windows: bin/mailmover.exe (GUI subsystem)"
$GO build -ldflags "-s -w -H windowsgui" -o bin/mailmover.exe .
echo "build-windows: bin/mailmover-cli.exe (console subsystem)"
$GO build -ldflags "-s -w" -o bin/mailmover-cli.exe .
rm -f "$SYSO"

[ "${MM_WIN_NO_MSI:-}" = 1 ] && exit 0
mkdir -p dist
MSI="dist/mailmover-$VERSION-x64.msi"
echo "build-windows: $MSI"
wixl --arch x64 -D Version="$VERSION" -D BinDir=bin -D IconFile=packaging/windows/mailmover.ico \
  -o "$MSI" packaging/windows/mailmover.wxs
ls -l bin/mailmover.exe bin/mailmover-cli.exe "$MSI"
