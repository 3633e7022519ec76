#!/usr/bin/env bash
# `npm run plugin:pack [ARCHIVE]`: the provider plugin as one archive, for
#   pulumi plugin install resource trusted-roots <version> --file <archive>
# It holds the compiled provider, its production node_modules and a launcher; the host needs only node. Nothing
# is downloaded at install time (npm ci here uses the registry, or its cache).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
version=$(node -p 'require("./package.json").version')
archive=${1:-$PWD/dist/pulumi-resource-trusted-roots-v$version.tar.gz}
[ -f dist/components/provider/main.js ] || npx tsc -p tsconfig.json
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/dist"
cp -r dist/components "$stage/dist/"
cp package.json package-lock.json .npmrc "$stage/"
(cd "$stage" && npm ci --omit=dev --prefer-offline --no-audit --no-fund >/dev/null)
cat > "$stage/pulumi-resource-trusted-roots" <<'LAUNCHER'
#!/bin/sh
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd -P)
exec node "$here/dist/components/provider/main.js" "$@"
LAUNCHER
chmod 755 "$stage/pulumi-resource-trusted-roots"
tar -czf "$archive" -C "$stage" .
echo "$archive"
