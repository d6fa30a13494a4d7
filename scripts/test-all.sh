#!/usr/bin/env bash
# `npm test`: every test, on a fresh machine. Installs the device lab's Debian packages when missing (root),
# runs typecheck + lint + unit specs, builds the renderer, then the lab and e2e suites inside the lab's
# technician network namespace. Prints one closing line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != "0" ]; then
  echo "npm test needs root: the device lab creates network namespaces and starts sshd, dockerd, avahi and socat." >&2
  echo "Run it as root (for example: sudo npm test)." >&2
  exit 1
fi

reports="$(mktemp -d)"
status=0
step() { echo; echo "=== $* ==="; }

step "lab packages"
bash scripts/lab-deps.sh || { echo "could not install the lab's Debian packages" >&2; exit 1; }

step "typecheck"
npx tsc -p tsconfig.json --noEmit || status=1
step "lint"
npx eslint . || status=1

step "unit and integration specs"
npx vitest run --project unit --reporter=default --reporter=json --outputFile.json="$reports/unit.json" || status=1

step "build the renderer"
npx vite build --logLevel warn || status=1

step "Electron security lint (Electronegativity; findings fixed or justified in scripts/electronegativity-justified.json)"
node scripts/electronegativity.mjs 2>/dev/null || status=1

step "device lab suites (inside the technician netns)"
OUTPOST_LAB_ID="${OUTPOST_LAB_ID:-ci}" bash tests/lab/in-lab.sh npx vitest run --project lab --reporter=default --reporter=json --outputFile.json="$reports/lab.json" || status=1

step "browser e2e (Chromium, inside a lab netns)"
OUTPOST_LAB_ID="${OUTPOST_LAB_ID:-ci}" bash tests/lab/in-lab.sh npx vitest run --project e2e --reporter=default --reporter=json --outputFile.json="$reports/e2e.json" || status=1

step "summary"
node scripts/test-summary.mjs "$reports"/*.json || status=1
exit $status
