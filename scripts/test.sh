#!/usr/bin/env bash
# Quick start: run the whole test suite (unit, integration and real-browser tests). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
# Real services the tests drive, from Debian's packages (no browser or server download is possible or needed):
# Chromium for the browser tests, nginx and openssl for the deployment tests, PostgreSQL for the audit trail.
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
{ command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } || missing+=(nginx)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
{ command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing ${missing[*]} from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "warning: ${missing[*]} not found; the tests needing them are skipped (they fail instead when CI=true)" >&2
  fi
fi
exec python -m pytest "$@"
