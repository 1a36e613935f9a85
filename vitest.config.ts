import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/unit/**/*.test.ts'],
        },
      },
      {
        // The Helm chart through the helm binary that `npm run cluster:build` builds.
        test: { name: 'chart', include: ['test/chart/**/*.test.ts'] },
      },
      {
        // The ledger's S3 sink against a real S3-compatible server (SeaweedFS), built into the binary cache the
        // first time (test/s3/build-weed.sh, minutes; `npm run cluster:build` does it before the tests).
        test: { name: 's3', include: ['test/s3/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 1_800_000 },
      },
      {
        // The HTML report rendered by a real headless browser, Debian's chromium, which the tier installs once
        // with apt-get when it is missing (test/browser/install-chromium.sh; as root).
        test: { name: 'browser', include: ['test/browser/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 900_000 },
      },
      {
        // The chart's PrometheusRule in a real Prometheus and Alertmanager, Debian's, which the tier installs once
        // with apt-get when they are missing (test/alerts/install-prometheus.sh; as root).
        test: { name: 'alerts', include: ['test/alerts/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 900_000 },
      },
      {
        // `npm run soak` only (issue #19): an hour of churn on the e2e tier's cluster; not part of `npm test`.
        test: {
          name: 'soak',
          include: ['test/soak/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          hookTimeout: 600_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          // One cluster is shared: e2e files run one at a time.
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
