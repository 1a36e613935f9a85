/**
 * The policies of deploy/examples parse with the operator's own schema and are usable (the API server's
 * check of them is test/e2e/examples.test.ts), and the example docs/budgets.md shows is the file itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { periodProblem } from '../../src/budget/period.ts';
import { policySpecSchema } from '../../src/crds/aicost-policy.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLES = join(ROOT, 'deploy/examples');
const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));

describe.each(files)('deploy/examples/%s', (file) => {
  const policies = parseAllDocuments(readFileSync(join(EXAMPLES, file), 'utf8'))
    .map((d) => d.toJS() as { kind?: string; spec?: unknown } | null)
    .filter((o) => o?.kind === 'AICostPolicy');

  it('has policies the operator can use', () => {
    for (const policy of policies) {
      const spec = policySpecSchema.parse(policy?.spec);
      const budget = spec.rules.budget;
      if (!budget) continue;
      expect(budget.amount).toMatch(/[1-9]/); // the CEL rule: more than zero
      expect(periodProblem(budget.timeZone)).toBeUndefined();
    }
  });
});

describe('docs/budgets.md', () => {
  it.each(['team-budget.yaml', 'team-budget-enforce.yaml'])('shows deploy/examples/%s as it is', (file) => {
    const doc = readFileSync(join(ROOT, 'docs/budgets.md'), 'utf8');
    const heading = `# deploy/examples/${file}\n`;
    const start = doc.indexOf('```yaml\n' + heading);
    const block = start < 0 ? '' : doc.slice(start + 8 + heading.length, doc.indexOf('```', start + 8));
    expect(parse(block)).toEqual(parse(readFileSync(join(EXAMPLES, file), 'utf8')));
  });
});
