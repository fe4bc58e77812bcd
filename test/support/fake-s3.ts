/**
 * A local S3 endpoint for object tagging (REST-XML, path-style: GET and PUT
 * /<bucket>/<key>?tagging[&versionId=...]), SigV4-checked for the s3 service, with the objects
 * that exist and their versions, as S3 keeps them:
 * - an unversioned bucket keeps one version per key (the `null` version), replaced by each upload
 * - a versioned bucket (`versioned(bucket)`) keeps every version; a delete without a version adds
 *   a delete marker, a delete of a version removes that version only
 * - tagging a key addresses its current version (404 NoSuchKey when that is a delete marker);
 *   tagging a version addresses that version (404 NoSuchVersion when it is gone, 405 for a
 *   delete marker); at most 10 tags, values of S3's allowed characters up to 256
 * - PutObject (PUT /<bucket>/<key> without ?tagging) stores the body and its content type as a new
 *   version (`objectOf` reads it); `refusePuts` makes the next PutObject calls fail (e.g. AccessDenied)
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { LocalServer } from './local-server';

interface Version {
  readonly versionId: string;
  readonly deleteMarker: boolean;
  tags: Record<string, string>;
}

export class FakeS3 {
  /** "bucket/key" -> versions, oldest first */
  private readonly objects = new Map<string, Version[]>();
  private readonly versionedBuckets = new Set<string>();
  private nextVersion = 1;
  /** "bucket/key" -> the body and content type of the last PutObject */
  private readonly bodies = new Map<string, { readonly body: Buffer; readonly contentType?: string }>();
  private putRefusals: Array<{ code: string; status: number; times: number }> = [];
  public readonly calls: Array<{ method: string; path: string }> = [];
  private readonly server = new LocalServer((req, res) => this.handle(req, res), (res, error) => this.error(res, 500, 'InternalError', String(error)));

  public start(): Promise<string> {
    return this.server.start();
  }

  public stop(): Promise<void> {
    return this.server.stop();
  }

  public reset(): void {
    this.objects.clear();
    this.versionedBuckets.clear();
    this.calls.length = 0;
    this.bodies.clear();
    this.putRefusals = [];
  }

  /** The next `times` PutObject calls fail with `code` (HTTP `status`). */
  public refusePuts(code = 'AccessDenied', status = 403, times = Number.POSITIVE_INFINITY): void {
    this.putRefusals.push({ code, status, times });
  }

  /** What the last PutObject of the key stored; undefined when none did. */
  public objectOf(bucket: string, key: string): { readonly body: Buffer; readonly contentType?: string } | undefined {
    return this.exists(bucket, key) ? this.bodies.get(`${bucket}/${key}`) : undefined;
  }

  /** The keys PutObject stored in the bucket, in the order they were stored. */
  public keysOf(bucket: string): string[] {
    return [...this.bodies.keys()].filter((k) => k.startsWith(`${bucket}/`)).map((k) => k.slice(bucket.length + 1));
  }

  /** Turns versioning on for the bucket. */
  public versioned(bucket: string): void {
    this.versionedBuckets.add(bucket);
  }

  /** Uploads an object; answers its version id (`null` in an unversioned bucket). */
  public put(bucket: string, key: string, tags: Record<string, string> = {}): string {
    return this.add(bucket, key, { ...tags }, false);
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

  private add(bucket: string, key: string, tags: Record<string, string>, deleteMarker: boolean): string {
    const versioned = this.versionedBuckets.has(bucket);
    const versionId = versioned ? `v${this.nextVersion++}` : 'null';
    const versions = versioned ? (this.objects.get(`${bucket}/${key}`) ?? []) : [];
    versions.push({ versionId, deleteMarker, tags });
    this.objects.set(`${bucket}/${key}`, versions);
    return versionId;
  }

  private find(bucket: string, key: string, versionId?: string): Version | undefined {
    const versions = this.objects.get(`${bucket}/${key}`) ?? [];
    return versionId === undefined ? versions[versions.length - 1] : versions.find((v) => v.versionId === versionId);
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>r</RequestId></Error>`);
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
    const [, bucket, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    if (req.method === 'PUT' && !url.searchParams.has('tagging') && key !== '') {
      const refusal = this.putRefusals.find((r) => r.times > 0);
      if (refusal) {
        refusal.times -= 1;
        return this.error(res, refusal.status, refusal.code, `scripted ${refusal.code}`);
      }
      const versionId = this.add(bucket, key, {}, false);
      this.bodies.delete(`${bucket}/${key}`); // re-inserted last: keysOf lists in the order stored
      this.bodies.set(`${bucket}/${key}`, { body: Buffer.concat(chunks), contentType: req.headers['content-type'] });
      res.writeHead(200, { etag: '"e"', ...(versionId !== 'null' ? { 'x-amz-version-id': versionId } : {}) });
      res.end();
      return;
    }
    if (!url.searchParams.has('tagging')) {
      return this.error(res, 501, 'NotImplemented', 'only object tagging and PutObject are implemented by the fake');
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

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
