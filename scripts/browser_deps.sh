#!/usr/bin/env bash
# Installs what the browser test needs: Debian's Chromium (plus a small CJK font so screenshots show the
# characters) and the web page's npm packages (playwright-core, onnxruntime-web). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
  else
    echo "browser-deps: chromium missing; install Debian's 'chromium' package (browser tests will be skipped)" >&2
  fi
fi
if [ -f web/package.json ] && [ ! -d web/node_modules/playwright-core ]; then
  if command -v npm >/dev/null 2>&1; then
    (cd web && npm ci --no-audit --no-fund --silent)
  else
    echo "browser-deps: npm missing; browser tests will be skipped" >&2
  fi
fi
