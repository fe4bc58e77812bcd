/**
 * A local S3 endpoint for object tagging (REST-XML, path-style: GET and PUT /<bucket>/<key>?tagging),
 * SigV4-checked for the s3 service, with the objects that exist.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { LocalServer } from './local-server';

export class FakeS3 {
  /** "bucket/key" -> tags */
  public readonly objects = new Map<string, Record<string, string>>();
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
    this.calls.length = 0;
  }

  public put(bucket: string, key: string, tags: Record<string, string> = {}): void {
    this.objects.set(`${bucket}/${key}`, { ...tags });
  }

  public tagsOf(bucket: string, key: string): Record<string, string> | undefined {
    return this.objects.get(`${bucket}/${key}`);
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
    if (!url.searchParams.has('tagging')) {
      return this.error(res, 501, 'NotImplemented', 'only object tagging is implemented by the fake');
    }
    const [, bucket, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const tags = this.objects.get(`${bucket}/${key}`);
    if (!tags) {
      return this.error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    }
    if (req.method === 'GET') {
      const set = Object.entries(tags)
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
      this.objects.set(`${bucket}/${key}`, next);
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end();
      return;
    }
    return this.error(res, 405, 'MethodNotAllowed', String(req.method));
  }
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
