#!/usr/bin/env bash
# `npm test`: type-check and build, lint, then every unit and lab test in one mocha run.
# Lab tests need root (they create network namespaces); without it they are skipped with the reason,
# except under CI=true, where a lab test that cannot run fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
phase() { printf '\n== %s\n' "$*"; }
started=$SECONDS
phase "build (tsc)"
npx tsc -p tsconfig.json
phase "lint (eslint)"
npx eslint .
phase "tests (mocha: unit, mock, lab)"
npx mocha 'dist/test/unit/**/*.spec.js' 'dist/test/mock/**/*.spec.js' 'dist/test/lab/**/*.spec.js'
printf '\n== npm test finished in %s s\n' "$((SECONDS - started))"
