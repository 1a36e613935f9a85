/**
 * Every repository path README.md and docs/ name exists, and every `npm run` script they name is in
 * package.json: the docs are read by the next engineer as a map, and a map with moved files misleads.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const PATH = /`((?:src|test|bench|scripts|deploy|docs)\/[\w./-]+\.(?:ts|md|sh|yaml|json))`/g;
const SCRIPT = /npm run (?:-s |--silent )?([a-z][\w:-]*)/g;
const scripts = Object.keys(
  (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: object }).scripts,
);

describe.each(DOCS)('%s', (doc) => {
  const text = readFileSync(join(ROOT, doc), 'utf8');
  it('names only paths that exist', () => {
    const missing = [...text.matchAll(PATH)].map((m) => m[1] ?? '').filter((p) => !existsSync(join(ROOT, p)));
    expect(missing).toEqual([]);
  });
  it('names only npm scripts that exist', () => {
    const missing = [...text.matchAll(SCRIPT)].map((m) => m[1] ?? '').filter((s) => !scripts.includes(s));
    expect(missing).toEqual([]);
  });
});
