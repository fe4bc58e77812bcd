/**
 * AWS Signature Version 4 for the CLI's requests (GetDataEndpoint and PutMedia; S3's for enrol), as
 * @smithy/signature-v4 signs them (test/cli-aws.test.ts compares the signatures), hashing with
 * node:crypto. Not @smithy/signature-v4 itself: it loads @smithy/core. Not a SHA-256 in JavaScript
 * (tried): this code runs once per process, in V8's interpreter, where every 32-bit intermediate
 * of the hash is a heap number; the two signatures allocated some 200 KB, enough for two young
 * generation collections, and cost more CPU and memory than loading node:crypto.
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
  /** The query parameters, not encoded (S3's `?tagging` is `{ tagging: '' }`). */
  readonly query?: Record<string, string>;
  /** Every header to send, `host` included; the signature's headers are added to a copy. */
  readonly headers: Record<string, string>;
  /** The request body; its SHA-256 is signed unless the headers give x-amz-content-sha256. */
  readonly body?: string | Uint8Array;
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
  const payloadHash = given !== undefined ? headers[given] : sha256(input.body ?? '').toString('hex');
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
    // S3's path is signed as sent: neither normalised nor encoded again
    service === 's3' ? input.path : canonicalPath(input.path),
    canonicalQuery(input.query ?? {}),
    ...names.map((name) => `${name}:${canonical[name]}`),
    '',
    names.join(';'),
    payloadHash,
  ].join('\n');
  const stringToSign = `AWS4-HMAC-SHA256\n${longDate}\n${scope}\n${sha256(canonicalRequest).toString('hex')}`;
  let key = sha256(shortDate, `AWS4${credentials.secretAccessKey}`);
  for (const part of [region, service, 'aws4_request']) {
    key = sha256(part, key);
  }
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${sha256(stringToSign, key).toString('hex')}`;
  return headers;
}

/** RFC 3986 encoding, as SigV4 wants every part of a query (and S3 a key's path segments). */
export const uriEncode = (text: string): string => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** The query sorted by encoded name, each `name=value` encoded. */
function canonicalQuery(query: Record<string, string>): string {
  return Object.entries(query)
    .map(([name, value]) => [uriEncode(name), uriEncode(value)])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
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
function sha256(data: string | Uint8Array, key?: string | Uint8Array): Buffer {
  // loaded at the first signature, so that --help and --version do without it
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const crypto = require('node:crypto') as typeof import('node:crypto');
  return key === undefined ? crypto.createHash('sha256').update(data).digest() : crypto.createHmac('sha256', key).update(data).digest();
}
