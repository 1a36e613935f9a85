/**
 * Prints one closing line, "Tests: N passed, N failed, N skipped", over the vitest JSON reports that
 * `npm test` writes, so a reader (or CI) sees unit and e2e results added up in one place.
 */
import { readFileSync, existsSync } from 'node:fs';

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  /** Files that failed outside a test (a beforeAll, an import): their tests count as skipped, not failed. */
  numFailedTestSuites: number;
  numPendingTests: number;
  numTodoTests: number;
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) {
    console.error(`test-summary: no report at ${file}`);
    process.exitCode = 1;
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8')) as VitestJson;
  passed += report.numPassedTests;
  // At least one failure per failed file, so a file whose beforeAll failed is never read as all passed.
  failed += Math.max(report.numFailedTests, report.numFailedTestSuites);
  skipped += report.numPendingTests + report.numTodoTests;
}
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (failed > 0 || passed === 0) process.exitCode = 1;
