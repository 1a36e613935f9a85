/** `aicost recommend --help`: the options, their defaults, and where the rules are written down. */
import { DEFAULT_LEDGER, LEDGER_ENV } from '../config/ledger-location.ts';
import { RECOMMEND_USAGE } from './options.ts';

export function recommendHelp(): string {
  return [
    RECOMMEND_USAGE,
    '',
    'Prints what would save money, the largest monthly saving (730 h) first; changes nothing. From Prometheus',
    "(dcgm-exporter's series) and the ledger: inference and dev workloads whose GPUs stay little used and",
    'little filled, with the cheapest catalog GPU that fits (right-size); pods holding GPUs they do not use',
    '(fewer-gpus); GPU nodes no pod requested for a while (empty-node); the steady on-demand GPUs of an instance',
    'family a reservation or savings plan would cover (commitment). A source that cannot be reached is skipped',
    'with a warning, and the others still answer. docs/unit-economics.md#recommendations has the rules.',
    '',
    'Options:',
    '  --prometheus-url URL   Prometheus with the dcgm-exporter series (right-sizing is skipped without it)',
    `  --ledger DIR           the ledger: a directory or s3://bucket/prefix (env ${LEDGER_ENV}, default ${DEFAULT_LEDGER})`,
    '  --cluster ID           one cluster of the ledger (give it when the ledger holds several: pods are matched',
    '                         to workloads by namespace and name)',
    '  --format F             table (default) or json: an array of {type, target, cluster, monthlySaving,',
    '                         currency, confidence, reason, ...}',
    '  --window D             the least data a right-sizing stands on, and the span it reads (default 24h)',
    "  --scrape-interval D    the DCGM series' sample spacing, to measure their coverage (default 15s)",
    '  --prometheus-timeout D how long to wait for each query (default 60s)',
    '  --headroom P           percent added to the GPU memory used before fitting a smaller GPU (default 25)',
    '  --empty-after D        how long a GPU node must have had nothing requested (default 2h)',
    '  --discount P           percent off on-demand of a reservation or savings plan (default 30)',
  ].join('\n');
}
