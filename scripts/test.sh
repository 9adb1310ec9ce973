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
# The OpenID Provider of the OIDC sign-in test (tests/ui/test_oidc_ui.py): panva's oidc-provider from npm, pinned
# by its package-lock.json. Without npm the test is skipped with a message (a failure when CI=true).
provider=tests/access/oidc_provider
if [ ! -d "$provider/node_modules" ]; then
  if command -v npm >/dev/null 2>&1; then
    echo "==> installing the test OpenID Provider (npm ci in $provider)"
    (cd "$provider" && npm ci --no-audit --no-fund --loglevel=error)
  else
    echo "warning: npm not found; the OIDC sign-in test is skipped (it fails instead when CI=true)" >&2
  fi
fi
exec python -m pytest "$@"
