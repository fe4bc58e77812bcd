/**
 * AWS Signature Version 4 for the CLI's two requests (GetDataEndpoint and PutMedia), as
 * @smithy/signature-v4 signs them, with a small SHA-256 of its own (test/cli-sigv4.test.ts checks
 * the signatures against @smithy/signature-v4 and the hashes against node:crypto). Two requests
 * hash about 2 KB: loading node:crypto (or @smithy/signature-v4, which loads it with @smithy/core)
 * costs more CPU than that, and a pure-JS hash written for V8's interpreter costs less than the
 * general one of @aws-crypto/sha256-js, since this code runs once per process, before V8 has
 * optimised any of it.
 */
import type { AwsCredentialIdentity } from '@smithy/types';

/** Headers never signed (as @smithy/signature-v4), besides proxy-* and sec-*. */
const UNSIGNABLE = new Set([
  'authorization', 'cache-control', 'connection', 'expect', 'from', 'keep-alive', 'max-forwards', 'pragma', 'referer', 'te',
  'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'x-amzn-trace-id',
]);

export interface SigningInput {
  readonly method: string;
  /** The request path, as sent (already URI-encoded). */
  readonly path: string;
  /** Every header to send, `host` included; the signature's headers are added to a copy. */
  readonly headers: Record<string, string>;
  /** The request body; its SHA-256 is signed unless the headers give x-amz-content-sha256. */
  readonly body?: string;
  readonly region: string;
  readonly service: string;
  readonly credentials: AwsCredentialIdentity;
  readonly date?: Date;
}

/** The headers to send: `headers` with x-amz-date, x-amz-security-token, x-amz-content-sha256 and authorization. */
export function signedHeaders(input: SigningInput): Record<string, string> {
  const { credentials, region, service } = input;
  const longDate = (input.date ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
  const shortDate = longDate.slice(0, 8);
  const scope = `${shortDate}/${region}/${service}/aws4_request`;
  const headers: Record<string, string> = { ...input.headers, 'x-amz-date': longDate };
  if (credentials.sessionToken) {
    headers['x-amz-security-token'] = credentials.sessionToken;
  }
  const given = Object.keys(headers).find((name) => name.toLowerCase() === 'x-amz-content-sha256');
  const payloadHash = given !== undefined ? headers[given] : hex(sha256(input.body ?? ''));
  if (given === undefined) {
    headers['x-amz-content-sha256'] = payloadHash;
  }
  const canonical: Record<string, string> = {};
  for (const name of Object.keys(headers).sort()) {
    const lower = name.toLowerCase();
    if (UNSIGNABLE.has(lower) || lower.startsWith('proxy-') || lower.startsWith('sec-')) {
      continue;
    }
    canonical[lower] = headers[name].replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').replace(/^ | $/g, '');
  }
  const names = Object.keys(canonical).sort();
  const canonicalRequest = [
    input.method,
    canonicalPath(input.path),
    '', // no query
    ...names.map((name) => `${name}:${canonical[name]}`),
    '',
    names.join(';'),
    payloadHash,
  ].join('\n');
  const stringToSign = `AWS4-HMAC-SHA256\n${longDate}\n${scope}\n${hex(sha256(canonicalRequest))}`;
  let key = sha256(shortDate, `AWS4${credentials.secretAccessKey}`);
  for (const part of [region, service, 'aws4_request']) {
    key = sha256(part, key);
  }
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${hex(sha256(stringToSign, key))}`;
  return headers;
}

/** The path normalised (no empty, . or .. segments) and URI-encoded once more, as SigV4 wants it for every service but S3. */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') {
      continue;
    }
    if (segment === '..') {
      segments.pop();
    } else {
      segments.push(segment);
    }
  }
  const normalized = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return encodeURIComponent(normalized).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%2F/g, '/');
}

/** SHA-256 of `data`, or its HMAC with `key`. */
function sha256(data: string, key?: string | Uint8Array): Uint8Array {
  const bytes = Buffer.from(data, 'utf8');
  return key === undefined ? digest(bytes) : hmac(typeof key === 'string' ? Buffer.from(key, 'utf8') : key, bytes);
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** HMAC-SHA-256 (RFC 2104). */
export function hmac(key: Uint8Array, data: Uint8Array): Uint8Array {
  const k = key.length > 64 ? digest(key) : key;
  const inner = new Uint8Array(64 + data.length);
  const outer = new Uint8Array(64 + 32);
  for (let i = 0; i < 64; i++) {
    const byte = i < k.length ? k[i] : 0;
    inner[i] = byte ^ 0x36;
    outer[i] = byte ^ 0x5c;
  }
  inner.set(data, 64);
  outer.set(digest(inner), 64);
  return digest(outer);
}

/** SHA-256 round constants (FIPS 180-4), as 32-bit integers. */
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** SHA-256 (FIPS 180-4). */
export function digest(data: Uint8Array): Uint8Array {
  const n = data.length;
  // the message, a 1 bit, zeros, and its length in bits (64-bit big-endian), in 64-byte blocks
  const padded = new Uint8Array((((n + 8) >> 6) + 1) * 64);
  padded.set(data);
  padded[n] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(n / 0x20000000));
  view.setUint32(padded.length - 4, (n << 3) >>> 0);
  const w = new Int32Array(64);
  let h0 = 0x6a09e667 | 0, h1 = 0xbb67ae85 | 0, h2 = 0x3c6ef372 | 0, h3 = 0xa54ff53a | 0;
  let h4 = 0x510e527f | 0, h5 = 0x9b05688c | 0, h6 = 0x1f83d9ab | 0, h7 = 0x5be0cd19 | 0;
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let i = 0; i < 16; i++) {
      w[i] = view.getInt32(offset + i * 4);
    }
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15];
      const y = w[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (h + S1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
    h5 = (h5 + f) | 0;
    h6 = (h6 + g) | 0;
    h7 = (h7 + h) | 0;
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  const state = [h0, h1, h2, h3, h4, h5, h6, h7];
  for (let i = 0; i < 8; i++) {
    outView.setInt32(i * 4, state[i]);
  }
  return out;
}
