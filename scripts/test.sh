#!/usr/bin/env bash
# npm test: the checks (Node version, types, lint, generated files, the cluster's binaries) stop the run at the
# first failure; then every test tier runs even when an earlier one failed, and one closing line adds them up:
# "Tests: N passed, N failed, N skipped". Exits non-zero when anything failed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
set -e
npm run --silent check-node
npm run typecheck
npm run lint
npm run verify
npm run cluster:build
set +e
out=.aicost/test-results
rm -rf "$out"
status=0
for tier in unit chart s3 browser alerts e2e; do
  npm run "test:$tier" -- --reporter=default --reporter=json "--outputFile.json=$out/$tier.json" || status=1
done
node scripts/test-summary.ts "$out/unit.json" "$out/chart.json" "$out/s3.json" "$out/browser.json" "$out/alerts.json" "$out/e2e.json" || status=1
exit "$status"
