#!/usr/bin/env bash
# Installs what the browser test needs: Debian's Chromium and the web page's npm packages. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "browser-deps: chromium missing; install Debian's 'chromium' package (browser tests will be skipped)" >&2
  fi
fi
if [ -f web/package.json ] && [ ! -d web/node_modules ]; then
  (cd web && npm ci --no-audit --no-fund --silent)
fi
