/**
 * A local S3 endpoint (REST-XML, path-style) for object tagging (GET and PUT
 * /<bucket>/<key>?tagging[&versionId=...]) and, for the CLI's enrol, PutObject, HeadObject,
 * GetObject, CopyObject (x-amz-copy-source, metadata and tagging directives) and ListObjectsV2
 * (prefix, delimiter, continuation), SigV4-checked for the s3 service, with the objects that
 * exist and their versions, as S3 keeps them:
 * - an unversioned bucket keeps one version per key (the `null` version), replaced by each upload
 * - a versioned bucket (`versioned(bucket)`) keeps every version; a delete without a version adds
 *   a delete marker, a delete of a version removes that version only
 * - tagging a key addresses its current version (404 NoSuchKey when that is a delete marker);
 *   tagging a version addresses that version (404 NoSuchVersion when it is gone, 405 for a
 *   delete marker); at most 10 tags, values of S3's allowed characters up to 256
 * - errors as S3 answers them: NoSuchKey (404, with an XML body; HEAD: 404 without one), a copy
 *   source that is missing is NoSuchKey too; requests signed with a key in `deniedKeys` are
 *   403 AccessDenied
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { LocalServer } from './local-server';

interface Version {
  readonly versionId: string;
  readonly deleteMarker: boolean;
  tags: Record<string, string>;
  readonly body?: Buffer;
  readonly contentType?: string;
}

/** An object written through the API (PutObject or CopyObject): what S3 would notify. */
export interface CreatedObject {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string;
  readonly body: Buffer;
  readonly contentType?: string;
}

export class FakeS3 {
  /** "bucket/key" -> versions, oldest first */
  private readonly objects = new Map<string, Version[]>();
  private readonly versionedBuckets = new Set<string>();
  private nextVersion = 1;
  public readonly calls: Array<{ method: string; path: string }> = [];
  /** Access keys whose requests are denied (403 AccessDenied), as for a caller without the permission. */
  public readonly deniedKeys = new Set<string>();
  /** Called for each object written through the API, as S3 sends its event notification. */
  public onCreated?: (object: CreatedObject) => void;
  /** Keys per ListObjectsV2 page (S3's default and maximum: 1000). */
  public listPageSize = 1000;
  private readonly server = new LocalServer((req, res) => this.handle(req, res), (res, error) => this.error(res, 500, 'InternalError', String(error)));

  public start(): Promise<string> {
    return this.server.start();
  }

  public stop(): Promise<void> {
    return this.server.stop();
  }

  private refusals: { code: string; status: number; times: number } | undefined;

  /** The next `times` PutObject calls are answered with the error `code` (HTTP `status`). */
  public refusePuts(code = 'AccessDenied', status = 403, times = Number.POSITIVE_INFINITY): void {
    this.refusals = { code, status, times };
  }

  /** The body of the current version of an object stored by PutObject, and its Content-Type. */
  public object(bucket: string, key: string): { body: Buffer; contentType?: string } | undefined {
    const version = this.find(bucket, key);
    return version?.body && !version.deleteMarker ? { body: version.body, contentType: version.contentType } : undefined;
  }

  public reset(): void {
    this.refusals = undefined;
    this.objects.clear();
    this.versionedBuckets.clear();
    this.calls.length = 0;
    this.deniedKeys.clear();
    this.onCreated = undefined;
    this.listPageSize = 1000;
  }

  /** Turns versioning on for the bucket. */
  public versioned(bucket: string): void {
    this.versionedBuckets.add(bucket);
  }

  /** Uploads an object; answers its version id (`null` in an unversioned bucket). */
  public put(bucket: string, key: string, tags: Record<string, string> = {}, body?: Buffer, contentType?: string): string {
    return this.add(bucket, key, { ...tags }, false, body, contentType);
  }

  /** The body of the current version, or of the given one; undefined when there is none. */
  public bodyOf(bucket: string, key: string, versionId?: string): Buffer | undefined {
    const version = this.find(bucket, key, versionId);
    return version && !version.deleteMarker ? version.body ?? Buffer.alloc(0) : undefined;
  }

  /** The content type of the current version. */
  public contentTypeOf(bucket: string, key: string, versionId?: string): string | undefined {
    return this.find(bucket, key, versionId)?.contentType;
  }

  /** The keys of a bucket whose current version is an object. */
  public keys(bucket: string): string[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(`${bucket}/`)).map((k) => k.slice(bucket.length + 1)).filter((key) => this.exists(bucket, key)).sort();
  }

  /** Deletes the key: its only version when unversioned, else adds a delete marker (answers its version id). */
  public delete(bucket: string, key: string): string {
    if (!this.versionedBuckets.has(bucket)) {
      this.objects.delete(`${bucket}/${key}`);
      return 'null';
    }
    return this.add(bucket, key, {}, true);
  }

  /** Deletes one version permanently. */
  public deleteVersion(bucket: string, key: string, versionId: string): void {
    const versions = this.objects.get(`${bucket}/${key}`) ?? [];
    this.objects.set(`${bucket}/${key}`, versions.filter((v) => v.versionId !== versionId));
  }

  /** Whether the object (or that version) exists and is not a delete marker: what GetObject would find. */
  public exists(bucket: string, key: string, versionId?: string): boolean {
    const version = this.find(bucket, key, versionId);
    return version !== undefined && !version.deleteMarker;
  }

  /** The tags of the current version, or of the given one; undefined when there is none. */
  public tagsOf(bucket: string, key: string, versionId?: string): Record<string, string> | undefined {
    const version = this.find(bucket, key, versionId);
    return version && !version.deleteMarker ? version.tags : undefined;
  }

  private add(bucket: string, key: string, tags: Record<string, string>, deleteMarker: boolean, body?: Buffer, contentType?: string): string {
    const versioned = this.versionedBuckets.has(bucket);
    const versionId = versioned ? `v${this.nextVersion++}` : 'null';
    const versions = versioned ? (this.objects.get(`${bucket}/${key}`) ?? []) : [];
    versions.push({ versionId, deleteMarker, tags, body, contentType });
    this.objects.set(`${bucket}/${key}`, versions);
    return versionId;
  }

  private find(bucket: string, key: string, versionId?: string): Version | undefined {
    const versions = this.objects.get(`${bucket}/${key}`) ?? [];
    return versionId === undefined ? versions[versions.length - 1] : versions.find((v) => v.versionId === versionId);
  }

  private error(res: ServerResponse, status: number, code: string, message: string, head = false): void {
    res.writeHead(status, { 'content-type': 'application/xml' });
    // a HEAD response has no body: the SDK names the error by its status
    res.end(head ? undefined : `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${escape(message)}</Message><RequestId>r</RequestId></Error>`);
  }

  /** PutObject, CopyObject, HeadObject, GetObject and ListObjectsV2. */
  private objectApi(req: IncomingMessage, res: ServerResponse, url: URL, bucket: string, key: string, body: Buffer): void {
    const versionHeader = (versionId: string) => (versionId !== 'null' ? { 'x-amz-version-id': versionId } : {});
    if (!key && req.method === 'GET' && url.searchParams.get('list-type') === '2') {
      return this.list(res, bucket, url.searchParams);
    }
    if (!key) {
      return this.error(res, 501, 'NotImplemented', `${req.method} of a bucket is not implemented by the fake`);
    }
    if (req.method === 'PUT') {
      if (this.refusals && this.refusals.times > 0) {
        this.refusals.times--;
        return this.error(res, this.refusals.status, this.refusals.code, 'refused by the test');
      }
      const copySource = req.headers['x-amz-copy-source'];
      let created: CreatedObject;
      if (typeof copySource === 'string') {
        const [path, query] = copySource.split('?');
        const [, sourceBucket, ...sourceKey] = decodeURIComponent(path.startsWith('/') ? path : `/${path}`).split('/');
        const sourceVersion = new URLSearchParams(query ?? '').get('versionId') ?? undefined;
        const source = this.find(sourceBucket, sourceKey.join('/'), sourceVersion);
        if (!source || source.deleteMarker) {
          return this.error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
        }
        const replaceMetadata = req.headers['x-amz-metadata-directive'] === 'REPLACE';
        const replaceTags = req.headers['x-amz-tagging-directive'] === 'REPLACE';
        const tags = replaceTags ? parseTaggingHeader(req.headers['x-amz-tagging']) : { ...source.tags };
        const contentType = replaceMetadata ? headerOf(req, 'content-type') : source.contentType;
        const sourceBody = source.body ?? Buffer.alloc(0);
        const versionId = this.add(bucket, key, tags, false, sourceBody, contentType);
        created = { bucket, key, versionId, body: sourceBody, contentType };
        res.writeHead(200, { 'content-type': 'application/xml', ...versionHeader(versionId), ...(source.versionId !== 'null' ? { 'x-amz-copy-source-version-id': source.versionId } : {}) });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><CopyObjectResult><LastModified>${new Date().toISOString()}</LastModified><ETag>"e"</ETag></CopyObjectResult>`);
      } else {
        const contentType = headerOf(req, 'content-type');
        const versionId = this.add(bucket, key, parseTaggingHeader(req.headers['x-amz-tagging']), false, body, contentType);
        created = { bucket, key, versionId, body, contentType };
        res.writeHead(200, { etag: '"e"', ...versionHeader(versionId) });
        res.end();
      }
      this.onCreated?.(created);
      return;
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      const versionId = url.searchParams.get('versionId') ?? undefined;
      const version = this.find(bucket, key, versionId);
      if (!version || version.deleteMarker) {
        return this.error(res, 404, 'NoSuchKey', 'The specified key does not exist.', req.method === 'HEAD');
      }
      const content = version.body ?? Buffer.alloc(0);
      res.writeHead(200, { 'content-length': String(content.length), 'content-type': version.contentType ?? 'binary/octet-stream', ...versionHeader(version.versionId) });
      res.end(req.method === 'GET' ? content : undefined);
      return;
    }
    return this.error(res, 405, 'MethodNotAllowed', String(req.method));
  }

  /** ListObjectsV2: keys under the prefix, those with the delimiter after it rolled up into CommonPrefixes. */
  private list(res: ServerResponse, bucket: string, params: URLSearchParams): void {
    const prefix = params.get('prefix') ?? '';
    const delimiter = params.get('delimiter') ?? '';
    const after = params.get('continuation-token') ?? params.get('start-after') ?? '';
    const max = Math.min(this.listPageSize, Number(params.get('max-keys') ?? 1000));
    const entries: Array<{ key?: string; prefix?: string; sortKey: string }> = [];
    const rolled = new Set<string>();
    for (const key of this.keys(bucket).filter((k) => k.startsWith(prefix))) {
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (cut >= 0) {
        const common = key.slice(0, cut + delimiter.length);
        if (!rolled.has(common)) {
          rolled.add(common);
          entries.push({ prefix: common, sortKey: common });
        }
      } else {
        entries.push({ key, sortKey: key });
      }
    }
    const page = entries.filter((e) => e.sortKey > after).slice(0, max);
    const truncated = entries.filter((e) => e.sortKey > after).length > page.length;
    const contents = page.filter((e) => e.key).map((e) => `<Contents><Key>${escape(e.key!)}</Key><Size>${this.bodyOf(bucket, e.key!)?.length ?? 0}</Size></Contents>`).join('');
    const prefixes = page.filter((e) => e.prefix).map((e) => `<CommonPrefixes><Prefix>${escape(e.prefix!)}</Prefix></CommonPrefixes>`).join('');
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucket}</Name><Prefix>${escape(prefix)}</Prefix>` +
        `<KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys>${delimiter ? `<Delimiter>${escape(delimiter)}</Delimiter>` : ''}<IsTruncated>${truncated}</IsTruncated>` +
        `${truncated ? `<NextContinuationToken>${escape(page[page.length - 1].sortKey)}</NextContinuationToken>` : ''}${contents}${prefixes}</ListBucketResult>`,
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    this.calls.push({ method: req.method ?? '', path: `${url.pathname}${url.search}` });
    if (!/^AWS4-HMAC-SHA256 Credential=[A-Z0-9]+\/\d{8}\/[a-z0-9-]+\/s3\/aws4_request, /.test(String(req.headers.authorization ?? ''))) {
      return this.error(res, 403, 'AccessDenied', 'request is not SigV4-signed for s3');
    }
    const accessKey = /Credential=([A-Z0-9]+)\//.exec(String(req.headers.authorization))?.[1] ?? '';
    if (this.deniedKeys.has(accessKey)) {
      return this.error(res, 403, 'AccessDenied', `User: ${accessKey} is not authorized to perform this operation`, req.method === 'HEAD');
    }
    const [, bucket, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    if (!url.searchParams.has('tagging')) {
      return this.objectApi(req, res, url, bucket, key, Buffer.concat(chunks));
    }
    const versionId = url.searchParams.get('versionId') ?? undefined;
    const version = this.find(bucket, key, versionId);
    if (!version) {
      return versionId === undefined
        ? this.error(res, 404, 'NoSuchKey', 'The specified key does not exist.')
        : this.error(res, 404, 'NoSuchVersion', 'The specified version does not exist.');
    }
    if (version.deleteMarker) {
      return versionId === undefined
        ? this.error(res, 404, 'NoSuchKey', 'The specified key does not exist.')
        : this.error(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    }
    if (req.method === 'GET') {
      const set = Object.entries(version.tags)
        .map(([k, v]) => `<Tag><Key>${escape(k)}</Key><Value>${escape(v)}</Value></Tag>`)
        .join('');
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>${set}</TagSet></Tagging>`);
      return;
    }
    if (req.method === 'PUT') {
      const xml = Buffer.concat(chunks).toString('utf8');
      const next: Record<string, string> = {};
      for (const m of xml.matchAll(/<Tag><Key>([^<]*)<\/Key><Value>([^<]*)<\/Value><\/Tag>/g)) {
        next[unescape(m[1])] = unescape(m[2]);
      }
      if (Object.keys(next).length > 10) {
        return this.error(res, 400, 'BadRequest', 'Object tags cannot be greater than 10');
      }
      for (const [k, v] of Object.entries(next)) {
        if (v.length > 256 || !/^[a-zA-Z0-9 +\-=._:/@]*$/.test(v)) {
          return this.error(res, 400, 'InvalidTag', `The TagValue you have provided is invalid: ${k}`);
        }
      }
      version.tags = next;
      res.writeHead(200, { 'content-type': 'application/xml', ...(version.versionId !== 'null' ? { 'x-amz-version-id': version.versionId } : {}) });
      res.end();
      return;
    }
    return this.error(res, 405, 'MethodNotAllowed', String(req.method));
  }
}

const headerOf = (req: IncomingMessage, name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined);

/** x-amz-tagging: a URL query of tags. */
function parseTaggingHeader(header: string | string[] | undefined): Record<string, string> {
  return typeof header === 'string' ? Object.fromEntries(new URLSearchParams(header)) : {};
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
