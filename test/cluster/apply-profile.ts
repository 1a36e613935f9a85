/**
 * Creates the profile's nodes in the cluster (kubectl apply), then sets their capacity through the status
 * subresource, which apply does not write. Usage: node test/cluster/apply-profile.ts <profile.yaml>
 */
import { execFileSync } from 'node:child_process';
import { stringify } from 'yaml';
import { loadProfile, nodeObject } from './profile.ts';

const path = process.argv[2];
if (!path) throw new Error('usage: apply-profile.ts <profile.yaml>');
const nodes = loadProfile(path).map(nodeObject);
execFileSync('kubectl', ['apply', '--server-side', '--force-conflicts', '--field-manager=aicost-cluster', '-f', '-'], {
  input: nodes.map((n) => stringify(n)).join('---\n'),
  stdio: ['pipe', 'ignore', 'inherit'],
});
for (const node of nodes) {
  const name = (node.metadata as { name: string }).name;
  execFileSync(
    'kubectl',
    ['patch', 'node', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: node.status })],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}
console.error(`applied ${nodes.length} nodes from ${path}`);
