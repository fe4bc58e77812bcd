/**
 * The CLI's S3 client for `enrol`: the few REST-XML calls it makes (HeadObject, CopyObject,
 * PutObject, GetObjectTagging, ListObjectsV2), each one SigV4-signed request (lib/cli/sigv4.ts),
 * retried as the SDK's standard mode retries (kvs-client.ts withRetries), without an SDK client.
 * Region, credentials and a configured endpoint come from where an S3Client finds them
 * (kvs-client.ts resolveSettings with the service id S3: AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL,
 * the profile's endpoint_url). A configured endpoint is addressed path-style
 * (`<endpoint>/<bucket>/<key>`, as local S3 servers want it); AWS virtual-hosted style
 * (`<bucket>.s3.<region>.<suffix>`), path-style for a bucket name with dots (TLS).
 */
import type { IncomingMessage } from 'node:http';
import type { AwsCredentialIdentity } from '@smithy/types';
import { AwsRequestError, AwsSettings, withRetries } from './kvs-client';
import { signedHeaders, uriEncode } from './sigv4';

export interface S3Target {
  readonly settings: AwsSettings;
  readonly credentials: AwsCredentialIdentity;
}

export interface S3Request {
  readonly method: 'GET' | 'HEAD' | 'PUT';
  readonly bucket: string;
  readonly key?: string;
  readonly query?: Record<string, string>;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array;
}

export interface S3Response {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A key's path segments encoded as S3 signs them ('/' kept). */
const encodeKey = (key: string) => key.split('/').map(uriEncode).join('/');

/** The base URL of the bucket's requests, and whether the bucket goes in the path. */
export async function bucketUrl(settings: AwsSettings, bucket: string): Promise<{ origin: URL; pathStyle: boolean }> {
  if (settings.configuredEndpoint !== undefined) {
    return { origin: new URL(settings.configuredEndpoint), pathStyle: true };
  }
  const p = (await import('./shared-config')).partition(settings.region);
  // S3's dual-stack endpoints keep the partition's usual suffix: s3.dualstack.<region>.amazonaws.com
  const service = `s3${settings.useFipsEndpoint ? '-fips' : ''}${settings.useDualstackEndpoint ? '.dualstack' : ''}`;
  const pathStyle = bucket.includes('.');
  return { origin: new URL(`https://${pathStyle ? '' : `${bucket}.`}${service}.${settings.region}.${p.dnsSuffix}/`), pathStyle };
}

/** One S3 call, retried on network errors, 5xx and throttling; an error status throws an AwsRequestError named by S3's code. */
export async function s3Call(target: S3Target, request: S3Request): Promise<S3Response> {
  return withRetries(() => send(target, request));
}

async function send({ settings, credentials }: S3Target, r: S3Request): Promise<S3Response> {
  const { origin, pathStyle } = await bucketUrl(settings, r.bucket);
  const base = origin.pathname.replace(/\/$/, '');
  const path = `${base}${pathStyle ? `/${r.bucket}` : ''}/${r.key !== undefined ? encodeKey(r.key) : ''}`;
  const query = r.query ?? {};
  const search = Object.entries(query).map(([k, v]) => (v === '' ? uriEncode(k) : `${uriEncode(k)}=${uriEncode(v)}`)).join('&');
  const body = r.body ?? new Uint8Array();
  const headers = signedHeaders({
    method: r.method,
    path,
    query,
    headers: {
      'host': origin.host,
      'user-agent': `cdk-face-stream-pipeline-cli node/${process.version}`,
      ...(r.method === 'PUT' ? { 'content-length': String(body.length) } : {}),
      ...r.headers,
    },
    body,
    region: settings.region,
    service: 's3',
    credentials,
  });
  const { request } = origin.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request({ method: r.method, protocol: origin.protocol, hostname: origin.hostname, port: origin.port || undefined, path: search ? `${path}?${search}` : path, headers }, resolve);
    req.on('error', (error: NodeJS.ErrnoException) => reject(new AwsRequestError(error.name, error.message, undefined, error.code)));
    req.end(r.method === 'PUT' ? body : undefined);
  });
  const chunks: Buffer[] = [];
  for await (const chunk of res) {
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const status = res.statusCode ?? 0;
  // CopyObject may answer 200 and an error in the body, when the copy fails after it started
  if (status >= 200 && status < 300 && !(r.headers?.['x-amz-copy-source'] !== undefined && /<Error>/.test(text))) {
    return { status, headers: res.headers, body: text };
  }
  // a HEAD error has no body: named as the SDK names it, by its status
  const code = xmlValue(text, 'Code') ?? ({ 404: 'NotFound', 403: 'Forbidden', 301: 'PermanentRedirect' } as Record<number, string>)[status] ?? (status < 300 ? 'InternalError' : 'Unknown');
  const message = xmlValue(text, 'Message') ?? `HTTP ${status}`;
  throw new AwsRequestError(code, message, status < 300 ? 500 : status);
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML character data decoded: the five entities and numeric references. */
export function xmlText(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) =>
    e.startsWith('#x') ? String.fromCodePoint(parseInt(e.slice(2), 16)) : e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : ENTITIES[e]);
}

/** The text of the first `<name>` element, decoded; undefined when there is none. */
export function xmlValue(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return m ? xmlText(m[1]) : undefined;
}

/** Every `<name>` element's text, decoded, in order. */
export function xmlValues(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => xmlText(m[1]));
}

/** The tags of an object (of one version), by key. */
export async function getObjectTagging(target: S3Target, bucket: string, key: string, versionId?: string): Promise<Record<string, string>> {
  const res = await s3Call(target, { method: 'GET', bucket, key, query: { tagging: '', ...(versionId ? { versionId } : {}) } });
  const tags: Record<string, string> = {};
  for (const m of res.body.matchAll(/<Tag>\s*<Key>([^<]*)<\/Key>\s*<Value>([^<]*)<\/Value>\s*<\/Tag>/g)) {
    tags[xmlText(m[1])] = xmlText(m[2]);
  }
  return tags;
}

/** The "folders" right under `prefix` (ListObjectsV2 with delimiter '/'), every page. */
export async function listFolders(target: S3Target, bucket: string, prefix: string): Promise<string[]> {
  const folders: string[] = [];
  let token: string | undefined;
  do {
    const res = await s3Call(target, {
      method: 'GET',
      bucket,
      query: { 'list-type': '2', 'prefix': prefix, 'delimiter': '/', ...(token ? { 'continuation-token': token } : {}) },
    });
    const common = /<CommonPrefixes>[\s\S]*<\/CommonPrefixes>/.exec(res.body)?.[0] ?? '';
    folders.push(...xmlValues(common, 'Prefix'));
    token = xmlValue(res.body, 'IsTruncated') === 'true' ? xmlValue(res.body, 'NextContinuationToken') : undefined;
  } while (token);
  return folders;
}

/** Whether the object exists (HeadObject): false on 404; other errors (403 among them) are thrown. */
export async function objectExists(target: S3Target, bucket: string, key: string): Promise<boolean> {
  try {
    await s3Call(target, { method: 'HEAD', bucket, key });
    return true;
  } catch (error) {
    if ((error as AwsRequestError).status === 404) {
      return false;
    }
    throw error;
  }
}
