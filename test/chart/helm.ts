/** The chart's tests' helm: the binary the cluster build caches, run on the chart, its output parsed. */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { helmBinary } from '../support/binaries.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CHART = resolve(ROOT, 'deploy/helm/aicost-operator');

export function helm(args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync(helmBinary(), args, { encoding: 'utf8' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  [k: string]: unknown;
}

/** `helm template` of the chart in aicost-system with these arguments; throws with helm's error. */
export function render(...args: string[]): Obj[] {
  const r = helm(['template', 'aicost', CHART, '--namespace', 'aicost-system', ...args]);
  if (r.status !== 0) throw new Error(r.err);
  return parseAllDocuments(r.out)
    .map((d) => d.toJS() as Obj | null)
    .filter((d): d is Obj => d !== null);
}

export const find = (objs: Obj[], kind: string, name?: string) =>
  objs.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
