#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (Playwright never downloads a browser here).
set -euo pipefail
if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
  echo "chromium is missing: install Debian's 'chromium' package (needs root)" >&2
  exit 1
fi
apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
