#!/usr/bin/env bash
# Makes a private Wine prefix for the Windows tests and prints the variables the tests
# read (internal/testenv/wine.go):
#   eval "$(scripts/wine-prefix.sh DIR)"   → DIR/prefix; MM_WINE, MM_WINE_PREFIX
# Debian 12's Wine 8 lacks bcryptprimitives.dll, which every Go >= 1.22 program loads at
# start; a stand-in (testenv/wine/bcryptprimitives.c, built here with mingw-w64) goes into
# the prefix's system32. Test scaffolding only: it is never shipped.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="$1"
mkdir -p "$DIR"
WINE=""
for w in /usr/lib/wine/wine64 $(dpkg -L wine64 2>/dev/null | grep '/wine64$' || true); do
  [ -x "$w" ] && { WINE="$w"; break; }
done
[ -n "$WINE" ] || { echo "wine-prefix: wine64 is not installed (scripts/setup.sh)" >&2; exit 1; }
x86_64-w64-mingw32-gcc -O2 -shared -s -o "$DIR/bcryptprimitives.dll" \
  testenv/wine/bcryptprimitives.c -ladvapi32 >&2
export WINEPREFIX="$DIR/prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
start=$(date +%s)
DISPLAY="" "$WINE" wineboot --init >"$DIR/wineboot.log" 2>&1 || { cat "$DIR/wineboot.log" >&2; exit 1; }
"$(dirname "$WINE")/wineserver" -w
cp "$DIR/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
echo "wine-prefix: $WINEPREFIX made in $(( $(date +%s) - start )) s" >&2
printf 'export MM_WINE=%q MM_WINE_PREFIX=%q\n' "$WINE" "$WINEPREFIX"
