#!/usr/bin/env bash
# `npm test`: type-check and build, lint, then the tests: mock (own process: setMocks is global), unit, then
# lab (real sshd/nginx hosts) and engine (the real Pulumi CLI) together.
# Lab and engine tests need root (network namespaces); without it they are skipped with the reason,
# except under CI=true, where a test that cannot run fails. The engine tests build the Pulumi CLI once
# (scripts/setup-pulumi.sh, cached under ~/.cache/trusted-roots).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Each phase prints its name when it starts and its time when it ends (CI's budget is read from these lines).
phase() {
  local name=$1 phase_started=$SECONDS
  shift
  printf '\n== %s\n' "$name"
  "$@"
  printf '== %s: %s s\n' "$name" "$((SECONDS - phase_started))"
}
# Independent spec files run side by side (mocha --parallel), one worker per core unless TRL_TEST_JOBS says
# otherwise; each lab or engine worker brings up its own lab (test/support/lab.ts: workerLab).
jobs=${TRL_TEST_JOBS:-$(nproc)}
[[ $jobs =~ ^[1-9][0-9]*$ ]] || { echo "TRL_TEST_JOBS=$jobs: give a whole number of side-by-side workers, 1 or more" >&2; exit 2; }
# The spec files of the folders given (ending in /), the files named first: workers take files in this order,
# and a long file started last would leave the other workers idle at the end.
ordered() {
  shopt -s globstar
  local -a first=() folders=()
  local arg file
  for arg in "$@"; do [[ $arg == */ ]] && folders+=("$arg") || first+=("dist/test/$arg.spec.js"); done
  printf '%s\n' "${first[@]}"
  for arg in "${folders[@]}"; do
    for file in dist/test/"$arg"**/*.spec.js; do [[ " ${first[*]} " == *" $file "* ]] || printf '%s\n' "$file"; done
  done
}
parallel_mocha() {
  local -a files
  mapfile -t files < <(ordered "$@")
  npx mocha --parallel --jobs "$jobs" "${files[@]}"
}
started=$SECONDS
# A clean build: compiled files of deleted sources would otherwise still run as tests.
phase "build (tsc)" bash -c 'rm -rf dist && npx tsc -p tsconfig.json'
phase "lint (eslint)" npx eslint .
phase "mock tests (mocha)" npx mocha 'dist/test/mock/**/*.spec.js'
phase "unit tests (mocha, $jobs workers)" parallel_mocha unit/mutants unit/sdk unit/javaInvariants unit/invariants unit/posixApply unit/
phase "lab tests: real sshd, nginx, Tomcat hosts; engine tests: the real Pulumi CLI (mocha, $jobs workers, a lab each)" \
  parallel_mocha lab/invariants engine/yaml engine/fleet engine/sharedBackend engine/java lab/load engine/goSdk engine/demo lab/providers lab/ engine/
printf '\n== npm test finished in %s s\n' "$((SECONDS - started))"
