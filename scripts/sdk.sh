#!/usr/bin/env bash
# `npm run sdk`: the Python and Go SDKs from schema.json, with Pulumi's code generators (sdkgen/, built once per
# version of its sources and cached under ~/.cache/trusted-roots/sdkgen). --check compares instead of writing:
# exit 1 and the differing files when the committed SDKs are not what the schema generates.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { printf 'sdk: %s\n' "$*" >&2; }
command -v go >/dev/null 2>&1 || { say "Go is needed to build the SDK generator (Pulumi's codegen): install Go >= 1.24"; exit 1; }
key=$(cat sdkgen/go.mod sdkgen/go.sum sdkgen/main.go | sha256sum | cut -c1-16)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/trusted-roots/sdkgen
GENERATOR=$CACHE/sdkgen-$key
if [ ! -x "$GENERATOR" ]; then
  started=$SECONDS
  mkdir -p "$CACHE"
  say "building the generator (pulumi/pkg/v3 codegen; cold: about a minute; log in $CACHE/build.log)"
  (cd sdkgen && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -o "$GENERATOR.new" .) >"$CACHE/build.log" 2>&1 || { tail -20 "$CACHE/build.log" >&2; say "go build failed"; exit 1; }
  mv -f "$GENERATOR.new" "$GENERATOR"
  say "built in $((SECONDS - started)) s"
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$GENERATOR" schema.json "$out" >&2
if [ "${1:-}" = "--check" ]; then
  if ! diff -r sdk/python "$out/python" >"$out/diff" || ! diff -r sdk/go "$out/go" >>"$out/diff"; then
    head -40 "$out/diff" >&2
    say "the committed SDKs differ from what schema.json generates: run npm run sdk"
    exit 1
  fi
  say "sdk/python and sdk/go are what schema.json generates"
  exit 0
fi
rm -rf sdk/python sdk/go
mkdir -p sdk
cp -r "$out/python" sdk/python
cp -r "$out/go" sdk/go
say "wrote sdk/python and sdk/go"
