/**
 * `aicost report --format html` as a reader sees it: the real CLI writes the page from a ledger written by the
 * project's own store, and Debian's chromium (installed once by install-chromium.sh) loads it headless from a
 * file and dumps the DOM after its load event. The page's script has by then counted the bars the browser laid
 * out (<html data-bars-drawn>) and the resources it fetched (none); a tenant's hostile team labels must be
 * text in the chart and the tables, and no element of theirs (a script, an image) may exist.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSink } from '../../src/ledger/local-sink.ts';
import type { LedgerRow } from '../../src/ledger/row.ts';
import { LedgerStore } from '../../src/ledger/store.ts';
import { HOUR_MS, jobRow, nodeRow } from '../../src/testing/ledger-rows.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/main.ts');
const DAY_MS = 86_400_000;
const D0 = Date.UTC(2026, 10, 1);
const SCRIPT = '<script>alert(1)</script>';
const IMAGE = '"><img src=x onerror="document.documentElement.dataset.pwned=1">';
/** Per window: each team's cost in nano-units, and the node's idle cost. */
const TEAMS: [string, bigint][] = [
  ['alpha', 3_000_000_000n],
  [SCRIPT, 1_250_000_000n],
  ['beta', 500_000_001n],
  [IMAGE, 100_000_000n],
];
const IDLE_NANOS = 400_000_000n;
/** Two windows a day, 10:00 and 11:00 UTC, on three days. */
const WINDOWS = [0, 1, 2].flatMap((day) => [10, 11].map((hour) => D0 + day * DAY_MS + hour * HOUR_MS));

let dir = '';
let chromium = '';
let dom = '';
let json: Record<string, string>[] = [];

function windowRows(startMs: number): LedgerRow[] {
  const at = { clusterId: 'prod-1', windowStartMs: startMs, windowEndMs: startMs + HOUR_MS };
  return [
    ...TEAMS.map(([team, cost], i) =>
      jobRow({ ...at, team, workloadName: `job-${i}`, workloadUid: `uid-${i}`, labels: { team }, cost }),
    ),
    nodeRow({ ...at, cost: IDLE_NANOS }),
  ];
}

function aicost(args: string[]): string {
  return execFileSync(process.execPath, [MAIN, 'report', '--ledger', join(dir, 'ledger'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** Text as the DOM dump writes it, back to characters. */
const text = (html: string) =>
  html
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&nbsp;', ' ')
    .replaceAll('&amp;', '&');

beforeAll(async () => {
  chromium = execFileSync('bash', [join(import.meta.dirname, 'install-chromium.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 900_000,
  }).trim();
  dir = await mkdtemp(join(tmpdir(), 'aicost-browser-'));
  const store = new LedgerStore(await LocalSink.open(join(dir, 'ledger')));
  for (const startMs of WINDOWS) await store.writeWindow('prod-1', startMs, windowRows(startMs));
  const range = ['--by', 'team', '--from', '2026-11-01', '--to', '2026-11-04'];
  const page = join(dir, 'report.html');
  await writeFile(page, aicost([...range, '--format', 'html']));
  json = JSON.parse(aicost([...range, '--format', 'json'])) as Record<string, string>[];
  const browse = spawnSync(
    chromium,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${join(dir, 'profile')}`,
      '--dump-dom',
      pathToFileURL(page).href,
    ],
    { encoding: 'utf8', timeout: 60_000, env: { ...process.env, HOME: dir }, maxBuffer: 64 * 1024 * 1024 },
  );
  if (browse.status !== 0) throw new Error(`chromium exited with ${browse.status}: ${browse.stderr}`);
  dom = browse.stdout;
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the HTML report in headless chromium', () => {
  it('draws the chart: every bar laid out with a size, nothing fetched', () => {
    const html = /<html[^>]*>/.exec(dom)?.[0] ?? '';
    // Three days, four teams and idle each day.
    expect(html).toContain('data-bars="15"');
    expect(html).toContain('data-bars-drawn="15"');
    expect(html).toContain('data-chart-drawn="yes"');
    expect(html).toContain('data-resources="0"');
  });

  it('titles each bar with its team, day and exact amount', () => {
    const titles = [...dom.matchAll(/<rect class="bar [^"]*"[^>]*><title>([^<]*)<\/title><\/rect>/g)].map((m) =>
      text(m[1] ?? ''),
    );
    const day = (d: number) => new Date(D0 + d * DAY_MS).toISOString().slice(0, 10);
    expect(titles).toEqual(
      [0, 1, 2].flatMap((d) => [
        `alpha · ${day(d)}: 6.00 USD`,
        `${SCRIPT} · ${day(d)}: 2.50 USD`,
        `beta · ${day(d)}: 1.000000002 USD`,
        `${IMAGE} · ${day(d)}: 0.20 USD`,
        `__idle__ · ${day(d)}: 0.80 USD`,
      ]),
    );
  });

  it('shows the rows of --format json, the hostile labels as text', () => {
    const rows = [...dom.matchAll(/<tr class="row">(.*?)<\/tr>/g)].map((m) =>
      [...(m[1] ?? '').matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => text(c[1] ?? '')),
    );
    expect(rows).toEqual(json.map((r) => [r.team, r.cost, r.currency]));
    expect(json.map((r) => r.team)).toEqual(['alpha', SCRIPT, 'beta', IMAGE, '__idle__']);
  });

  it('ran no script but its own and made no element of a label', () => {
    expect(dom.match(/<script/g)).toHaveLength(1);
    expect(dom).not.toContain('alert(1)</script>');
    expect(dom).not.toMatch(/<img/i);
    expect(dom).not.toContain('data-pwned');
    expect(dom).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});
