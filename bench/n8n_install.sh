#!/usr/bin/env bash
# Installs the pinned n8n into a cache dir outside the repo (idempotent).
# Facts (version, xlsx override, node headers) come from the peers reference notes.
set -euo pipefail

N8N_VERSION="${N8N_VERSION:-2.8.4}"
N8N_HOME="${N8N_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/scenarist/n8n-$N8N_VERSION}"
N8N_BIN="$N8N_HOME/node_modules/.bin/n8n"

if [[ -x "$N8N_BIN" && -f "$N8N_HOME/.installed" ]]; then
  echo "$N8N_BIN"
  exit 0
fi

mkdir -p "$N8N_HOME"
cat >"$N8N_HOME/package.json" <<JSON
{
  "name": "scenarist-bench-n8n",
  "private": true,
  "dependencies": { "n8n": "$N8N_VERSION" },
  "overrides": { "xlsx": "0.18.5" }
}
JSON

node_prefix="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
(
  cd "$N8N_HOME"
  # sqlite3 builds from source: point node-gyp at the local headers, and keep npm quiet/offline
  # from anything but the registry (no audit, no funding, no update notifier).
  npm_config_nodedir="$node_prefix" \
  npm_config_update_notifier=false \
  npm_config_fund=false \
  npm_config_audit=false \
  npm install --no-save --loglevel=error >"$N8N_HOME/install.log" 2>&1
)
touch "$N8N_HOME/.installed"
echo "$N8N_BIN"
