#!/usr/bin/env bash
# Build the studio web app into services/studio/src/scenarist_studio/static (git-ignored).
# `npm ci` installs exactly package-lock.json; the build is skipped when nothing under web/
# changed since the last successful one (a stamp holds the inputs' checksum).
set -euo pipefail
cd "$(dirname "$0")"
OUT=../src/scenarist_studio/static
STAMP=.build-stamp
inputs() {
  find src index.html package.json package-lock.json tsconfig.json vite.config.ts -type f \
    -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1
}
sum="$(inputs)"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$sum" && -f "$OUT/index.html" ]]; then
  echo "studio web app is up to date"
  exit 0
fi
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
npm run build
echo "$sum" > "$STAMP"
