/**
 * A self-signed ECDSA P-256 serving certificate for the admission webhook, for local runs and tests
 * (`aicost webhook-cert`), and for secure /metrics when no certificate is given. In a cluster the chart gives
 * the webhook its certificate; here there is no cert-manager and no openssl in the image, and Node can sign but
 * not build X.509, so the DER is written by hand. The certificate is its own CA (basicConstraints CA:TRUE), so
 * its PEM is also the CA bundle the API server is given. Go's TLS client ignores the common name: every host
 * must be a subjectAltName. Tests also make client certificates with it (purpose clientAuth), for a server
 * that asks for one.
 */
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { isIP } from 'node:net';

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const seq = (...c: Buffer[]) => tlv(0x30, ...c);

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const [first = 0, second = 0, ...rest] = parts;
  const out = [first * 40 + second];
  for (const p of rest) {
    const base128: number[] = [];
    let v = p;
    do {
      base128.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let i = 0; i < base128.length - 1; i++) base128[i] = (base128[i] ?? 0) | 0x80;
    out.push(...base128);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime, valid for years before 2050 (RFC 5280 4.1.2.5.1). */
function utcTime(date: Date): Buffer {
  const text = date.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  return tlv(0x17, Buffer.from(text, 'ascii'));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), tlv(0x04, value));
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  // Expand "::" and write eight 16-bit groups.
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') && tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export interface SelfSigned {
  /** PEM certificate: the serving certificate and the CA bundle at once. */
  readonly cert: string;
  /** PEM PKCS#8 private key. */
  readonly key: string;
}

/**
 * A DER INTEGER serial from random bytes: positive (top bit clear) and minimally encoded (first byte never 0),
 * since a leading zero byte before one under 0x80 is invalid DER ("illegal padding") that parsers reject; with
 * only the top bit cleared, one certificate in 512 came out so.
 */
export function serialNumber(random: Buffer): Buffer {
  const serial = Buffer.from(random);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  return serial;
}

/** Extended key usages: a server's certificate, or a client's for mutual TLS (a TLS stack refuses either for the other). */
const PURPOSE_OIDS = { serverAuth: '1.3.6.1.5.5.7.3.1', clientAuth: '1.3.6.1.5.5.7.3.2' } as const;
export type Purpose = keyof typeof PURPOSE_OIDS;

export function generateSelfSigned(
  hosts: readonly string[],
  now: Date,
  validDays = 365,
  purposes: readonly Purpose[] = ['serverAuth'],
  commonName = 'aicost-operator webhook',
): SelfSigned {
  if (hosts.length === 0) throw new Error('at least one host name or IP address is needed');
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const ecdsaSha256 = seq(oid('1.2.840.10045.4.3.2'));
  const name = seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
  const serial = serialNumber(randomBytes(16));
  const notBefore = new Date(now.getTime() - 5 * 60_000); // tolerate clock skew
  const notAfter = new Date(now.getTime() + validDays * 86_400_000);
  const altNames = hosts.map((h) =>
    isIP(h) ? tlv(0x87, ipBytes(h)) : tlv(0x82, Buffer.from(h.toLowerCase(), 'ascii')),
  );
  const extensions = tlv(
    0xa3,
    seq(
      extension('2.5.29.19', true, seq(tlv(0x01, Buffer.from([0xff])))), // basicConstraints CA:TRUE
      extension('2.5.29.15', true, tlv(0x03, Buffer.from([0x02, 0x84]))), // digitalSignature, keyCertSign
      extension('2.5.29.37', false, seq(...purposes.map((p) => oid(PURPOSE_OIDS[p])))),
      extension('2.5.29.17', false, seq(...altNames)),
    ),
  );
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))), // v3
    tlv(0x02, serial),
    ecdsaSha256,
    name,
    seq(utcTime(notBefore), utcTime(notAfter)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    extensions,
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const der = seq(tbs, ecdsaSha256, tlv(0x03, Buffer.from([0]), signature));
  const body = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd();
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
