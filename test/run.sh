#!/usr/bin/env bash
# `npm test`: type-check and build, lint, then the tests: unit, mock (own process: setMocks is global),
# lab (real sshd/nginx hosts) and engine (the real Pulumi CLI through the Automation API).
# Lab and engine tests need root (network namespaces); without it they are skipped with the reason,
# except under CI=true, where a test that cannot run fails. The engine tests build the Pulumi CLI once
# (scripts/setup-pulumi.sh, cached under ~/.cache/trusted-roots).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
phase() { printf '\n== %s\n' "$*"; }
started=$SECONDS
phase "build (tsc)"
# A clean build: compiled files of deleted sources would otherwise still run as tests.
rm -rf dist
npx tsc -p tsconfig.json
phase "lint (eslint)"
npx eslint .
phase "mock tests (mocha)"
npx mocha 'dist/test/mock/**/*.spec.js'
phase "unit, lab and engine tests (mocha)"
npx mocha 'dist/test/unit/**/*.spec.js' 'dist/test/lab/**/*.spec.js' 'dist/test/engine/**/*.spec.js'
printf '\n== npm test finished in %s s\n' "$((SECONDS - started))"
