/**
 * A real S3-compatible server for tests: SeaweedFS's `weed server -s3` (master, volume, filer and S3 gateway in
 * one process) on free ports of 127.0.0.1, its data in a fresh temporary folder, with one identity whose
 * key and secret are random, so every request must carry a valid Signature V4. The binary is built by
 * test/s3/build-weed.sh when it is not in the cache yet (minutes, once per machine).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createS3Client, S3Error, type S3Client } from '../../src/ledger/s3-client.ts';
import { DEFAULT_REGION } from '../../src/ledger/s3-settings.ts';
import { weedBinary } from './binaries.ts';
import { freePorts, stopProcess } from './processes.ts';

const ROOT = resolve(import.meta.dirname, '../..');

export interface WeedServer {
  /** AWS_ENDPOINT_URL_S3, e.g. http://127.0.0.1:41234 */
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Created and empty when the server is handed over. */
  readonly bucket: string;
  /** weed's output, for failure messages. */
  readonly logFile: string;
  /** Stops the process and deletes its data. */
  stop(): Promise<void>;
}

export interface WeedOptions {
  readonly bucket?: string;
  /** How long to wait for the server to take a write (it takes about 10 s). */
  readonly readyTimeoutMs?: number;
}

/** The weed binary, built first if the cache does not have it. */
export function ensureWeed(): string {
  const binary = weedBinary();
  if (!existsSync(binary)) {
    execFileSync('bash', [join(ROOT, 'test/s3/build-weed.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return binary;
}

export async function startWeed(options: WeedOptions = {}): Promise<WeedServer> {
  const binary = ensureWeed();
  const dir = mkdtempSync(join(tmpdir(), 'aicost-s3-'));
  const accessKeyId = `AKAICOST${randomBytes(6).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(24).toString('base64url');
  const bucket = options.bucket ?? 'aicost-ledger';
  writeIdentities(join(dir, 's3.json'), accessKeyId, secretAccessKey);
  const ports = await freePorts(PORTS);
  mkdirSync(join(dir, 'data'));
  const logFile = join(dir, 'weed.log');
  const log = openSync(logFile, 'a');
  const child = spawn(binary, weedArgs(dir, ports), { cwd: dir, stdio: ['ignore', log, log] });
  closeSync(log);

  const endpoint = `http://127.0.0.1:${ports.s3}`;
  const stop = async () => {
    // weed's graceful stop takes over 10 s, and its data is thrown away anyway.
    await stopProcess(child);
    rmSync(dir, { recursive: true, force: true });
    // weed puts a Unix socket for each gRPC port at a fixed place in /tmp, and a killed weed leaves them.
    const grpc = { master: ports.masterGrpc, volume: ports.volumeGrpc, filer: ports.filerGrpc, s3: ports.s3Grpc };
    for (const [name, port] of Object.entries(grpc)) {
      rmSync(`/tmp/seaweedfs-${name}-grpc-${port}.sock`, { force: true });
    }
  };
  const client = createS3Client({
    endpoint: new URL(endpoint),
    region: DEFAULT_REGION,
    credentials: { accessKeyId, secretAccessKey },
    // The first write waits (about 5 s) for the master to allocate the bucket's volumes.
    requestTimeoutMs: 20_000,
    now: () => new Date(),
  });
  try {
    await untilReady(client, child, bucket, options.readyTimeoutMs ?? 60_000);
  } catch (error) {
    const tail = readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
    await stop();
    throw new Error(`weed did not become ready:\n${tail}`, { cause: error });
  } finally {
    client.close();
  }
  return { endpoint, region: DEFAULT_REGION, accessKeyId, secretAccessKey, bucket, logFile, stop };
}

/** With an identity configured, anonymous requests are refused and every signature is checked. */
function writeIdentities(path: string, accessKey: string, secretKey: string): void {
  const identity = {
    name: 'aicost',
    credentials: [{ accessKey, secretKey }],
    actions: ['Admin', 'Read', 'Write', 'List'],
  };
  writeFileSync(path, JSON.stringify({ identities: [identity] }));
}

const PORTS = ['master', 'masterGrpc', 'volume', 'volumeGrpc', 'filer', 'filerGrpc', 's3', 's3Grpc'] as const;

/** Every listener on a port chosen here (weed's defaults would collide with a second server) or switched off. */
function weedArgs(dir: string, ports: Record<(typeof PORTS)[number], number>): string[] {
  return [
    'server',
    '-ip=127.0.0.1',
    '-ip.bind=127.0.0.1',
    `-dir=${join(dir, 'data')}`,
    `-master.port=${ports.master}`,
    `-master.port.grpc=${ports.masterGrpc}`,
    '-master.telemetry=false',
    // Small volumes, few of them: a test writes kilobytes.
    '-master.volumeSizeLimitMB=64',
    `-volume.port=${ports.volume}`,
    `-volume.port.grpc=${ports.volumeGrpc}`,
    '-volume.max=16',
    `-filer.port=${ports.filer}`,
    `-filer.port.grpc=${ports.filerGrpc}`,
    `-filer.localSocket=${join(dir, 'filer.sock')}`,
    '-s3',
    `-s3.port=${ports.s3}`,
    `-s3.port.grpc=${ports.s3Grpc}`,
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
    `-s3.localSocket=${join(dir, 's3.sock')}`,
    `-s3.config=${join(dir, 's3.json')}`,
  ];
}

/**
 * Ready means the bucket exists and takes a write: the S3 gateway answers before the filer has found the
 * master and before the volume server has registered, and a write fails until both have.
 */
async function untilReady(client: S3Client, child: ChildProcess, bucket: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = new Error('no attempt yet');
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`weed exited with code ${child.exitCode}`, { cause: last });
    try {
      // 409 BucketAlreadyOwnedByYou: an earlier attempt created it but its answer was lost.
      await client.call({ method: 'PUT', bucket }, [409]);
      await client.call({ method: 'PUT', bucket, key: '.ready', body: new Uint8Array([1]) });
      await client.call({ method: 'DELETE', bucket, key: '.ready' });
      return;
    } catch (error) {
      if (error instanceof S3Error && error.status === 403) throw error; // the credentials are wrong: no waiting helps
      last = error;
    }
    await sleep(250);
  }
  throw new Error(`not ready within ${timeoutMs} ms`, { cause: last });
}
