/**
 * `npm run demo -- --once` on the local cluster: the newcomer's first command ends with every demo workload
 * priced, the checkpointed Job on spot with a saving, the one without checkpoints kept off spot, and the spot
 * policy reporting the saving the on-demand training run forgoes. (Skipped on a cluster given by KUBECONFIG:
 * the demo starts the local cluster.)
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

describe.skipIf(process.env.AICOST_E2E_EXISTING_CLUSTER === '1')('npm run demo', () => {
  it('prints the cost table with spot placement and savings, then cleans up', () => {
    const r = spawnSync(process.execPath, [resolve(ROOT, 'scripts/demo.ts'), '--once'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(r.status, r.stderr + r.stdout.slice(-3000)).toBe(0);
    const last = r.stdout.slice(r.stdout.lastIndexOf('aicost-operator demo:'));
    for (const w of [
      'Job/research/llama-finetune',
      'Job/research/vision-sweep',
      'Job/research/whisper-finetune',
      'Pod/research/notebook-alice',
      'Deployment/serving/chat-api',
      'Deployment/serving-dev/chat-api-dev',
    ])
      expect(last).toMatch(new RegExp(`${w}\\s+\\S+\\s+\\d+\\s+\\S+\\s+\\$\\d+\\.\\d{4}\\s+\\$\\d+\\.\\d{4}`));
    expect(last).toMatch(/Job\/research\/whisper-finetune .* on spot, saved \$\d+\.\d{4}/);
    expect(last).toMatch(/Job\/research\/vision-sweep .* kept off spot \(no checkpoints\)/);
    // The teams and the idle capacity add up to the nodes' cost, GPU and CPU-only (each rounded to 4 decimals).
    const spend = /Spend by team: (.*) \(nodes \$(\d+\.\d{4})\)/.exec(last);
    const rows = new Map((spend?.[1] ?? '').split(', ').map((r) => [r.split(' $')[0], r.split(' $')[1]]));
    expect([...rows.keys()], last).toEqual(expect.arrayContaining(['research', 'serving', '__idle__']));
    const tenThousandths = (v: string | undefined) => Math.round(Number(v) * 10_000);
    const sum = [...rows.values()].reduce((a, v) => a + tenThousandths(v), 0);
    expect(Math.abs(sum - tenThousandths(spend?.[2]))).toBeLessThanOrEqual(rows.size);
    // The same spend from the durable ledger (aicost report --by team): the teams and the idle row.
    const report = last.slice(last.indexOf('From the ledger (aicost report --by team'));
    expect(report, last).toMatch(/^From the ledger \(aicost report --by team/);
    for (const team of ['research', 'serving', '__idle__']) expect(report).toContain(team);
    // The spot saving llama-finetune forgoes on demand is a would-be saving, apart from what is realized.
    expect(last).toMatch(
      /Policy training-on-spot \(Enforce\): \d+ actions, saving \$\d+\.\d{4}\/h \(\$\d+\.\d{2}\/month\), would-be \$[1-9]\d*\.\d{4}\/h/,
    );
  }, 330_000);
});
