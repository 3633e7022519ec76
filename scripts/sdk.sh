#!/usr/bin/env bash
# `npm run sdk`: the Python, Go and C# SDKs from schema.json, with Pulumi's code generators (sdkgen/: built once
# per version of its sources, cached under ~/.cache/trusted-roots/sdkgen). --check compares instead of writing:
# exit 1 and the differing files when the committed SDKs are not what the schema generates.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { printf 'sdk: %s\n' "$*" >&2; }
command -v go >/dev/null 2>&1 || { say "Go is needed to build the SDK generator (Pulumi's codegen): install Go >= 1.24"; exit 1; }
# shellcheck source=go-env.sh
. scripts/go-env.sh
LANGUAGES=(python go dotnet)
key=$(cat sdkgen/*.go sdkgen/go.mod sdkgen/go.sum sdkgen/go.dotnet.mod sdkgen/go.dotnet.sum | sha256sum | cut -c1-16)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/trusted-roots/sdkgen
mkdir -p "$CACHE"
# build NAME GO-BUILD-ARGS...: the generator once per source version.
build() {
  local name=$1 started=$SECONDS; shift
  local binary=$CACHE/$name-$key
  if [ ! -x "$binary" ]; then
    say "building $name (pulumi/pkg/v3 codegen; cold: a minute or two; log in $CACHE/$name.log)"
    (cd sdkgen && go build "$@" -o "$binary.new" .) >"$CACHE/$name.log" 2>&1 || { tail -20 "$CACHE/$name.log" >&2; say "go build of $name failed"; exit 1; }
    mv -f "$binary.new" "$binary"
    say "built $name in $((SECONDS - started)) s"
  fi
  echo "$binary"
}
current=$(build sdkgen)
# go.dotnet.mod pins the pulumi/pkg the YAML language host is built with, at its versions of shared modules, so
# with the same tags this build reuses what the toolchain's YAML host build compiled.
dotnet=$(build sdkgen-dotnet -tags "dotnet,$GO_TAGS" -modfile go.dotnet.mod)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$current" schema.json "$out" >&2
"$dotnet" schema.json "$out" >&2
if [ "${1:-}" = "--check" ]; then
  for language in "${LANGUAGES[@]}"; do
    if ! diff -r "sdk/$language" "$out/$language" >"$out/diff"; then
      head -40 "$out/diff" >&2
      say "sdk/$language differs from what schema.json generates: run npm run sdk"
      exit 1
    fi
  done
  say "sdk/python, sdk/go and sdk/dotnet are what schema.json generates"
  exit 0
fi
for language in "${LANGUAGES[@]}"; do
  rm -rf "sdk/$language"
  cp -r "$out/$language" "sdk/$language"
done
say "wrote sdk/python, sdk/go and sdk/dotnet"
