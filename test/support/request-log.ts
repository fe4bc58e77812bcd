/**
 * Every request the local servers of this test file receive, as the services would see it: method,
 * URL, headers and the first 2 MiB of the body (the JSON and XML bodies that name the resources;
 * not all of a PutMedia stream's media). LocalServer records each request here; the IAM check
 * (iam-check.ts) reads the log after each test.
 *
 * Recording is passive: the body is copied as the HTTP parser pushes it into the request stream, so
 * no fake reads it differently, sees it later or in other pieces.
 */
import { IncomingMessage } from 'node:http';

/** What is kept of a body: a PutMedia stream is megabytes of media that name no resource. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body so far (complete once the request has ended), cut at MAX_BODY_BYTES. */
  readonly body: () => Buffer;
}

const LOG = Symbol.for('cdk-face-stream-pipeline.received-requests');
type Holder = { [LOG]?: ReceivedRequest[] };

function log(): ReceivedRequest[] {
  const holder = globalThis as Holder;
  return (holder[LOG] ??= []);
}

/** Records `req` (called by LocalServer as each request arrives, before its handler runs). */
export function recordRequest(req: IncomingMessage): void {
  const chunks: Buffer[] = [];
  let kept = 0;
  const push = req.push;
  req.push = function tap(this: IncomingMessage, chunk: any, encoding?: BufferEncoding): boolean {
    if (chunk !== null && chunk !== undefined && kept < MAX_BODY_BYTES) {
      const piece = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding);
      const slice = piece.subarray(0, MAX_BODY_BYTES - kept);
      chunks.push(Buffer.from(slice));
      kept += slice.length;
    }
    return push.call(this, chunk, encoding);
  };
  log().push({ method: req.method ?? '', url: req.url ?? '/', headers: { ...req.headers }, body: () => Buffer.concat(chunks) });
}

/** The requests received since the last call, removed from the log. */
export function takeReceivedRequests(): ReceivedRequest[] {
  return log().splice(0);
}
