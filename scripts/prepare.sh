#!/usr/bin/env bash
# What `npm test` and `npm run demo` need on a fresh machine, each step skipped when already done:
# Debian packages (sshd, nginx, sudo, openssl...), node_modules matching package-lock.json, and the Pulumi
# toolchain (built from the Go module proxy, cached under ~/.cache/trusted-roots). Prints each phase's time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
phase() {
  local name=$1 started=$SECONDS
  shift
  "$@"
  printf 'prepare: %s done in %s s\n' "$name" "$((SECONDS - started))"
}

install_node_modules() {
  # npm ci when node_modules is missing or was installed from another lock file.
  local want have=""
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  [ -f node_modules/.trusted-roots-lock ] && have=$(cat node_modules/.trusted-roots-lock)
  if [ "$want" = "$have" ]; then
    echo "prepare: node_modules matches package-lock.json"
    return
  fi
  echo "prepare: npm ci (node_modules $([ -n "$have" ] && echo "is stale" || echo "is missing"))"
  npm ci --no-audit --no-fund
  echo "$want" > node_modules/.trusted-roots-lock
}

if [ "$(uname -s)" = Linux ] && [ "$(id -u)" = 0 ]; then
  phase "system packages" bash scripts/install-system-deps.sh
else
  echo "prepare: not root on Linux: system packages not checked (the lab and engine tests will be skipped)"
fi
phase "node modules" install_node_modules
# Its last line (the bin directory) is for callers; here only its progress on stderr is shown. Inside the phase,
# so the phase's own time line is not thrown away with it.
phase "pulumi toolchain" bash -c 'bash scripts/setup-pulumi.sh >/dev/null'
