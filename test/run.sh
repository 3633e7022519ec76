#!/usr/bin/env bash
# `npm test`: type-check and build, lint, then the tests: unit, mock (own process: setMocks is global),
# lab (real sshd/nginx hosts) and engine (the real Pulumi CLI through the Automation API).
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
started=$SECONDS
# A clean build: compiled files of deleted sources would otherwise still run as tests.
phase "build (tsc)" bash -c 'rm -rf dist && npx tsc -p tsconfig.json'
phase "lint (eslint)" npx eslint .
phase "mock tests (mocha)" npx mocha 'dist/test/mock/**/*.spec.js'
phase "unit tests (mocha)" npx mocha 'dist/test/unit/**/*.spec.js'
phase "lab tests: real sshd, nginx, Tomcat hosts (mocha)" npx mocha 'dist/test/lab/**/*.spec.js'
phase "engine tests: the real Pulumi CLI (mocha)" npx mocha 'dist/test/engine/**/*.spec.js'
printf '\n== npm test finished in %s s\n' "$((SECONDS - started))"
