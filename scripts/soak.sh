#!/usr/bin/env bash
# `make soak`: the long form of the fault suite. Over a 1,000-message run of
# `mailmover run` (after = move) through a TCP proxy: ≥20 connection cuts at random byte
# offsets, ≥10 kill -9 with restarts, a server restart, a full destination (a tmpfs;
# needs root), and — the profile signing in with XOAUTH2 at the test provider — 2 access
# tokens made invalid before their announced expiry and 1 refresh token revoked (the mover
# must pause for a new sign-in, which the suite does; -oauth=false: the password user).
# Then: every attachment on disk exactly once (manifest hashes), no message moved whose
# files are not on disk, the mover's log naming the token faults. Prints one summary
# line; exits non-zero on a loss.
#
#   bash scripts/soak.sh [mm-bench soak flags]    e.g.  -n 200 -cuts 5 -kills 3
#
# Uses the same private Dovecot and throw-away keyring as scripts/bench.sh, plus the test
# provider it starts for the soak (MM_BENCH_OIDC_PORT, default 11980).
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_CMD=soak exec bash scripts/bench.sh -restart-cmd "bash $PWD/scripts/bench-dovecot.sh restart" "$@"
