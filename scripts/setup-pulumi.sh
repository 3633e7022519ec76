#!/usr/bin/env bash
# The Pulumi toolchain for the engine tests and the demo, offline: prints the directory to put on PATH
# (last line of stdout). Uses a `pulumi` already on PATH when it is recent enough; otherwise builds the CLI
# from the Go module proxy into a cache outside the repository (~4 min cold on 2 cores, instant when warm).
#
# What it provides:
#   pulumi                          github.com/pulumi/pulumi/pkg/v3/cmd/pulumi at $PULUMI_VERSION
#   pulumi-resource-pulumi-nodejs   the dynamic-provider plugin script, from the sdk/v3 module of that version
#   pulumi-analyzer-policy-nodejs   runs a Node policy pack (@pulumi/pulumi/cmd/run-policy-pack from the pack's
#                                   directory); the CLI uses it when no Node language host is installed
#   pulumi-language-yaml            github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml at $YAML_VERSION: the
#                                   language host the plain-CLI tests run YAML programs with (~1 min cold)
# What it does not: pulumi-language-nodejs and pulumi-resource-command. The module proxy here refuses both
# (403), so TypeScript programs run inline through the Automation API (no language host needed), YAML
# programs exercise the plain CLI, and restarts use this package's own ServiceRestart (no command plugin).
set -euo pipefail
PULUMI_VERSION=${PULUMI_VERSION:-v3.260.0}
YAML_VERSION=${YAML_VERSION:-v1.25.0}
MINIMUM=3.181.0
CACHE=${TRUSTED_ROOTS_CACHE:-$HOME/.cache/trusted-roots}
BIN=$CACHE/toolchain/pulumi-$PULUMI_VERSION/bin
say() { echo "setup-pulumi: $*" >&2; }
started=$SECONDS
# shellcheck source=go-env.sh
. "$(dirname "${BASH_SOURCE[0]}")/go-env.sh"

version_at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }

if [ -z "${TRUSTED_ROOTS_BUILD_PULUMI:-}" ] && command -v pulumi >/dev/null 2>&1 && command -v pulumi-resource-pulumi-nodejs >/dev/null 2>&1 &&
  command -v pulumi-language-yaml >/dev/null 2>&1; then
  found=$(pulumi version 2>/dev/null | sed 's/^v//')
  if [ -n "$found" ] && version_at_least "$found" "$MINIMUM"; then
    say "using pulumi $found from PATH ($(command -v pulumi))"
    dirname "$(command -v pulumi)"
    exit 0
  fi
  say "pulumi on PATH is ${found:-unknown}, older than $MINIMUM: building $PULUMI_VERSION instead"
fi

write_policy_analyzer() {
  cat > "$BIN/pulumi-analyzer-policy-nodejs" <<'SCRIPT'
#!/bin/sh
# Started by the Pulumi CLI in the policy pack's directory: run the pack with the SDK it depends on.
runner=$(node -e "console.log(require.resolve('@pulumi/pulumi/cmd/run-policy-pack'))") || exit 1
exec node "$runner" "$@"
SCRIPT
  chmod 755 "$BIN/pulumi-analyzer-policy-nodejs"
}

# The YAML language host, built once per version (a stamp file records which).
ensure_yaml_host() {
  if [ -x "$BIN/pulumi-language-yaml" ] && [ "$(cat "$BIN/.pulumi-language-yaml.version" 2>/dev/null)" = "$YAML_VERSION" ]; then return 0; fi
  command -v go >/dev/null 2>&1 || { say "Go is needed to build pulumi-language-yaml here: install Go >= 1.24"; exit 1; }
  local yaml_started=$SECONDS
  say "building pulumi-language-yaml $YAML_VERSION from the Go module proxy (log in $BIN/../yaml-build.log)"
  # Stripped like pulumi-yaml's own release builds (-s -w), as the CLI is below.
  GOBIN="$BIN" go install -ldflags "-s -w" \
    "github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml@$YAML_VERSION" >"$BIN/../yaml-build.log" 2>&1 || {
    tail -20 "$BIN/../yaml-build.log" >&2
    say "could not build pulumi-language-yaml $YAML_VERSION"
    exit 1
  }
  echo "$YAML_VERSION" > "$BIN/.pulumi-language-yaml.version"
  say "built pulumi-language-yaml $YAML_VERSION in $((SECONDS - yaml_started)) s"
}

if [ -x "$BIN/pulumi" ] && [ -x "$BIN/pulumi-resource-pulumi-nodejs" ] && [ "$("$BIN/pulumi" version 2>/dev/null)" = "$PULUMI_VERSION" ]; then
  write_policy_analyzer
  ensure_yaml_host
  say "pulumi $PULUMI_VERSION cached in $BIN"
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null 2>&1 || { say "Go is needed to build the Pulumi CLI here (no installer can be downloaded): install Go >= 1.24"; exit 1; }
WRAPPER=$CACHE/toolchain/build-$PULUMI_VERSION
mkdir -p "$WRAPPER" "$BIN"
cd "$WRAPPER"
# pkg/v3's go.mod has replace directives, so `go install pkg@version` refuses it: build from a wrapper module
# that requires pkg/v3 and sdk/v3 at the same version (a dependency's replace lines are ignored).
cat > go.mod <<MOD
module trustedroots/pulumitoolchain

go 1.24
MOD
cat > tools.go <<'GO'
//go:build tools

package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
GO
say "fetching github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION and sdk/v3 from the Go module proxy"
if ! go get "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION" >"$WRAPPER/get.log" 2>&1; then
  tail -5 "$WRAPPER/get.log" >&2
  say "could not fetch the Pulumi modules: is the Go module proxy reachable (GOPROXY=$(go env GOPROXY))?"
  exit 1
fi
say "building pulumi $PULUMI_VERSION (cold: several minutes; log in $WRAPPER/build.log)"
# Linked as Pulumi's release builds are (their .goreleaser.yml: -w -s, no symbol table or DWARF): a 116 MB binary
# instead of 162, and a link of 8-10 s instead of 13-20 here.
go build \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
  -o "$BIN/pulumi.new" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi >"$WRAPPER/build.log" 2>&1 || {
  tail -20 "$WRAPPER/build.log" >&2
  say "go build failed"
  exit 1
}
mv -f "$BIN/pulumi.new" "$BIN/pulumi"
SDK_DIR=$(go list -m -f '{{.Dir}}' "github.com/pulumi/pulumi/sdk/v3")
install -m 755 "$SDK_DIR/nodejs/dist/pulumi-resource-pulumi-nodejs" "$BIN/pulumi-resource-pulumi-nodejs"
write_policy_analyzer
ensure_yaml_host
say "built $("$BIN/pulumi" version) in $((SECONDS - started)) s into $BIN"
echo "$BIN"
