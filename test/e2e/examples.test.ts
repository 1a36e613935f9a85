/**
 * Every manifest in deploy/examples applies as is on the cluster (with the CRD installed, as the chart
 * does), and deletes again: a user copying one must not meet "namespaces ... not found" or a schema error.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { cluster, kubectlFor, waitFor } from './support/cluster.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const EXAMPLES = join(ROOT, 'deploy/examples');
const kubectl = kubectlFor(cluster().kubeconfig);

interface Obj {
  kind: string;
  metadata: { name: string; namespace?: string };
  items?: Obj[];
}

describe('deploy/examples', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml'));
  beforeAll(() => void kubectl(['apply', '-f', join(ROOT, 'deploy/crds')]));
  it('has examples', () => expect(files.length).toBeGreaterThan(0));

  it.each(files)('%s applies as is and deletes', async (file) => {
    const path = join(EXAMPLES, file);
    // The demo suite deletes the namespaces it shares with the examples: wait until such a deletion is over.
    for (const doc of parseAllDocuments(readFileSync(path, 'utf8'))) {
      const o = doc.toJS() as Obj | null;
      if (o?.kind !== 'Namespace') continue;
      await waitFor(
        () =>
          kubectl(['get', 'namespace', o.metadata.name, '--ignore-not-found', '-o', 'jsonpath={.status.phase}']) !==
          'Terminating',
        { description: `namespace ${o.metadata.name} not terminating`, timeoutMs: 120_000, intervalMs: 1000 },
      );
    }
    const applied = kubectl(['apply', '-f', path]).trim().split('\n');
    // kubectl prints one object alone and several as a List.
    const got = JSON.parse(kubectl(['get', '-f', path, '-o', 'json'])) as Obj;
    const live = got.items ?? [got];
    expect(live.length).toBe(applied.length);
    // A namespace an example creates stays: the demo uses the same ones, and deleting one takes a while.
    for (const o of live.filter((i) => i.kind !== 'Namespace'))
      kubectl(['delete', o.kind, o.metadata.name, ...(o.metadata.namespace ? ['-n', o.metadata.namespace] : [])]);
  });
});
