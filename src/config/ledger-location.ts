/**
 * Where a command finds the ledger: `--ledger`, else AICOST_LEDGER, else `.aicost/ledger` under the working
 * directory (the embedded default of issue #15). A directory, or an `s3://bucket/prefix` URL (open-sink.ts).
 * The only read of the environment for the report commands, here in src/config/ as everywhere else.
 */
import { s3SettingsFor, type S3Settings } from '../ledger/s3-settings.ts';

export const LEDGER_ENV = 'AICOST_LEDGER';
export const DEFAULT_LEDGER = '.aicost/ledger';

export function resolveLedger(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  return flag || env[LEDGER_ENV] || DEFAULT_LEDGER;
}

/** An s3:// ledger's settings from the AWS_* variables; undefined for a directory. */
export function ledgerS3(
  location: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): S3Settings | undefined {
  return s3SettingsFor(location, env);
}
