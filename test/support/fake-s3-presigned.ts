/**
 * A local S3 endpoint serving objects to presigned GET URLs (path-style, query-string SigV4), as
 * S3 checks them: the signature is recomputed with the SDK's own S3 signer
 * (@aws-sdk/s3-request-presigner's S3RequestPresigner) from the request as received and the
 * secret of the URL's access key, so a URL for another key or bucket, with another expiry or any
 * other change, is refused (403 SignatureDoesNotMatch); a URL past X-Amz-Date + X-Amz-Expires is
 * refused (403 AccessDenied "Request has expired"), by a clock the test can move (`later`); an
 * access key it does not know, or a session token that differs from the key's, is refused
 * (403 InvalidAccessKeyId / InvalidToken). GetObject of a missing key: 404 NoSuchKey.
 *
 * (test/support/fake-s3.ts is the tagging fake, header-signed; this one is query-signed reads.)
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { S3RequestPresigner } from '@aws-sdk/s3-request-presigner';
import { HttpRequest } from '@smithy/core/protocols';
import { LocalServer } from './local-server';

export interface SecretOf {
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** The query parameters a presigned URL's signature is made of, not signed over. */
const AUTH_PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Security-Token', 'X-Amz-Signature'];

export class PresignedS3 {
  /** "bucket/key" -> body */
  private readonly objects = new Map<string, { body: Buffer; contentType: string }>();
  private readonly keys = new Map<string, SecretOf>();
  private offsetMs = 0;
  public readonly served: string[] = [];
  private readonly server = new LocalServer((req, res) => this.handle(req, res), (res, error) => this.error(res, 500, 'InternalError', String(error)));

  public start(): Promise<string> {
    return this.server.start();
  }

  public stop(): Promise<void> {
    return this.server.stop();
  }

  public reset(): void {
    this.objects.clear();
    this.served.length = 0;
    this.offsetMs = 0;
  }

  /** The credentials S3 knows: URLs signed with `accessKeyId` are checked with this secret. */
  public knowKey(accessKeyId: string, secret: SecretOf): void {
    this.keys.set(accessKeyId, secret);
  }

  public put(bucket: string, key: string, body: Buffer, contentType = 'image/jpeg'): void {
    this.objects.set(`${bucket}/${key}`, { body, contentType });
  }

  /** S3's clock moves `ms` ahead of the real one. */
  public later(ms: number): void {
    this.offsetMs += ms;
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { 'content-type': 'application/xml' });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>r</RequestId></Error>`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for await (const _ of req) {
      // drain
    }
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    const q = url.searchParams;
    if (req.method !== 'GET') {
      return this.error(res, 405, 'MethodNotAllowed', String(req.method));
    }
    if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || !q.get('X-Amz-Signature')) {
      return this.error(res, 403, 'AccessDenied', 'only presigned (query-string SigV4) GETs are served by this fake');
    }
    const credential = /^([A-Z0-9]+)\/(\d{8})\/([a-z0-9-]+)\/s3\/aws4_request$/.exec(q.get('X-Amz-Credential') ?? '');
    if (!credential) {
      return this.error(res, 400, 'AuthorizationQueryParametersError', 'X-Amz-Credential must be <key>/<date>/<region>/s3/aws4_request');
    }
    const [, accessKeyId, , region] = credential;
    const secret = this.keys.get(accessKeyId);
    if (!secret) {
      return this.error(res, 403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    }
    if ((q.get('X-Amz-Security-Token') ?? undefined) !== secret.sessionToken) {
      return this.error(res, 403, 'InvalidToken', 'The provided token is malformed or otherwise invalid.');
    }
    const expires = Number(q.get('X-Amz-Expires'));
    if (!Number.isInteger(expires) || expires < 1 || expires > 604800) {
      return this.error(res, 400, 'AuthorizationQueryParametersError', 'X-Amz-Expires must be less than a week (in seconds) that is 604800');
    }
    const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(q.get('X-Amz-Date') ?? '');
    if (!date) {
      return this.error(res, 400, 'AuthorizationQueryParametersError', 'X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"');
    }
    const signedAt = new Date(Date.UTC(+date[1], +date[2] - 1, +date[3], +date[4], +date[5], +date[6]));
    const query: Record<string, string> = {};
    for (const [name, value] of q) {
      if (!AUTH_PARAMS.includes(name)) query[name] = value;
    }
    const request = new HttpRequest({ method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query, headers: { host: String(req.headers.host) } });
    const presigner = new S3RequestPresigner({
      credentials: { accessKeyId, secretAccessKey: secret.secretAccessKey, sessionToken: secret.sessionToken },
      region,
      sha256: Sha256,
    });
    const expected = (await presigner.presign(request, { signingDate: signedAt, expiresIn: expires })).query?.['X-Amz-Signature'];
    if (expected !== q.get('X-Amz-Signature')) {
      return this.error(res, 403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.');
    }
    const now = Date.now() + this.offsetMs;
    if (now > signedAt.getTime() + expires * 1000) {
      return this.error(res, 403, 'AccessDenied', 'Request has expired');
    }
    const [, bucket, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const object = this.objects.get(`${bucket}/${key}`);
    if (!object) {
      return this.error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    }
    this.served.push(`${bucket}/${key}`);
    res.writeHead(200, { 'content-type': object.contentType, 'content-length': object.body.length });
    res.end(object.body);
  }
}
