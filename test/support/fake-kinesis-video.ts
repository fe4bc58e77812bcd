/**
 * A local Kinesis Video Streams endpoint: GetDataEndpoint (REST-JSON, POST /getDataEndpoint) and
 * PutMedia (POST /putMedia: a chunked MKV body in, a stream of JSON acknowledgements out), both
 * SigV4-checked for `kinesisvideo`. It records the bytes received and acknowledges each Cluster
 * (fragment) by its Cluster's Timecode, like the service: BUFFERING when it starts, RECEIVED and
 * PERSISTED once it is complete (the next Cluster starts, or the body ends); ERROR 4004 for a
 * fragment whose timecode is lower than the one before; or answers with a scripted ERROR ack, or misbehaves
 * as scripted (`misbehave`). POST /upload takes a plain body, for the benchmark's baseline. Each
 * body's first and last byte times are recorded (`timings`), for throughput measured at the server.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { LocalServer } from './local-server';
import { CLUSTER_ID } from './mkv';

export interface PutMediaSession {
  readonly headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  readonly acks: unknown[];
}

/** When a request body's first and last bytes arrived (process.hrtime.bigint()), and its size. */
export interface BodyTiming {
  readonly url: string;
  readonly bytes: number;
  readonly first: bigint;
  readonly last: bigint;
}

/**
 * Scripted misbehaviour of PutMedia:
 * - `malformed`: the second fragment's BUFFERING ack is not JSON;
 * - `stray-brace`: a `}` is sent before the second fragment's acks;
 * - `no-acks`: answers 200 and reads the body, but never acknowledges nor ends the response;
 * - `no-answer`: reads the body, never answers;
 * - `end-early`: ends the response (cleanly) after the first fragment's acks and reads no more.
 */
export type Misbehaviour = 'malformed' | 'stray-brace' | 'no-acks' | 'no-answer' | 'end-early';

const AUTH = /^AWS4-HMAC-SHA256 Credential=[A-Z0-9]+\/\d{8}\/([a-z0-9-]+)\/kinesisvideo\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=[0-9a-f]{64}$/;

export class FakeKinesisVideo {
  public readonly streams = new Set<string>();
  public readonly sessions: PutMediaSession[] = [];
  public readonly calls: string[] = [];
  /** Answer an ERROR ack with this id after `errorAfterFragments` fragments. */
  public errorId?: number;
  public errorAfterFragments = 0;
  /** Answer PutMedia with this HTTP status and error type instead. */
  public httpError?: { status: number; type: string; message: string };
  public uploadBytes = 0;
  public misbehave?: Misbehaviour;
  /** Keep every body received in `sessions` (the benchmark turns this off). */
  public keepBodies = true;
  public readonly timings: BodyTiming[] = [];
  private readonly hanging = new Set<ServerResponse>();
  private readonly server = new LocalServer((req, res) => this.handle(req, res), (res, error) => {
    res.writeHead(500);
    res.end(String(error));
  });
  private url = '';

  public async start(): Promise<string> {
    this.url = await this.server.start();
    return this.url;
  }

  public async stop(): Promise<void> {
    this.release();
    await this.server.stop();
  }

  /** Ends the connections left hanging by `no-acks` / `no-answer`. */
  public release(): void {
    for (const res of this.hanging) {
      res.socket?.destroy();
    }
    this.hanging.clear();
  }

  public reset(): void {
    this.streams.clear();
    this.sessions.length = 0;
    this.calls.length = 0;
    this.errorId = undefined;
    this.errorAfterFragments = 0;
    this.httpError = undefined;
    this.uploadBytes = 0;
    this.misbehave = undefined;
    this.keepBodies = true;
    this.timings.length = 0;
    this.release();
  }

  private json(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (errorType) {
      headers['x-amzn-errortype'] = errorType;
    }
    res.writeHead(status, headers);
    res.end(JSON.stringify(body));
  }

  private streamOf(nameOrArn: unknown): string | undefined {
    if (typeof nameOrArn !== 'string') {
      return undefined;
    }
    const name = nameOrArn.startsWith('arn:') ? nameOrArn.split(':')[5]?.split('/')[1] : nameOrArn;
    return name && this.streams.has(name) ? name : undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.calls.push(`${req.method} ${req.url}`);
    if (req.url === '/upload') {
      // the same receiving work as PutMedia (keep the bytes, find the clusters), without acks
      const body = await this.receive(req, () => true);
      this.uploadBytes += body.bytes;
      res.writeHead(200);
      res.end();
      return;
    }
    const auth = AUTH.exec(String(req.headers.authorization ?? ''));
    if (!auth || !req.headers['x-amz-date']) {
      for await (const _ of req) {
        // drain
      }
      return this.json(res, 403, { message: 'request is not SigV4-signed for kinesisvideo' }, 'AccessDeniedException');
    }
    if (req.method === 'POST' && req.url === '/getDataEndpoint') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) {
        chunks.push(chunk as Buffer);
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      if (body.APIName !== 'PUT_MEDIA' && body.APIName !== 'GET_MEDIA') {
        return this.json(res, 400, { message: `APIName ${body.APIName} is not supported by the fake` }, 'InvalidArgumentException');
      }
      if (!this.streamOf(body.StreamName ?? body.StreamARN)) {
        return this.json(res, 404, { message: `The requested stream ${body.StreamName ?? body.StreamARN} was not found or you do not have access to it.` }, 'ResourceNotFoundException');
      }
      return this.json(res, 200, { DataEndpoint: this.url });
    }
    if (req.method === 'POST' && req.url === '/putMedia') {
      return this.putMedia(req, res, auth[2].split(';'));
    }
    return this.json(res, 404, { message: `no route ${req.method} ${req.url}` }, 'NotFound');
  }

  private async putMedia(req: IncomingMessage, res: ServerResponse, signedHeaders: string[]): Promise<void> {
    const fail = async (status: number, type: string, message: string) => {
      for await (const _ of req) {
        // drain
      }
      this.json(res, status, { message }, type);
    };
    for (const header of ['x-amzn-fragment-timecode-type', 'x-amzn-producer-start-timestamp']) {
      if (!signedHeaders.includes(header)) {
        return fail(403, 'AccessDeniedException', `${header} must be signed`);
      }
    }
    const stream = this.streamOf(req.headers['x-amzn-stream-name'] ?? req.headers['x-amzn-stream-arn']);
    if (!stream) {
      return fail(404, 'ResourceNotFoundException', 'stream not found');
    }
    if (!['ABSOLUTE', 'RELATIVE'].includes(String(req.headers['x-amzn-fragment-timecode-type']))) {
      return fail(400, 'InvalidArgumentException', 'x-amzn-fragment-timecode-type must be ABSOLUTE or RELATIVE');
    }
    if (!Number.isFinite(Number(req.headers['x-amzn-producer-start-timestamp']))) {
      return fail(400, 'InvalidArgumentException', 'x-amzn-producer-start-timestamp must be a number');
    }
    if (this.httpError) {
      return fail(this.httpError.status, this.httpError.type, this.httpError.message);
    }
    const session: PutMediaSession = { headers: req.headers, body: Buffer.alloc(0), acks: [] };
    this.sessions.push(session);
    const misbehave = this.misbehave;
    if (misbehave === 'no-answer' || misbehave === 'no-acks') {
      this.hanging.add(res);
      if (misbehave === 'no-acks') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.flushHeaders();
      }
      const body = await this.receive(req, () => true).catch(() => undefined);
      session.body = body?.body ?? Buffer.alloc(0);
      return; // never acknowledges, never ends: the client must give up
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    const write = (text: string) => {
      if (!res.writableEnded) {
        res.write(text);
      }
    };
    const ack = (a: Record<string, unknown>) => {
      session.acks.push(a);
      write(misbehave === 'malformed' && fragments === 2 && a.EventType === 'BUFFERING' ? '{"EventType":"BUFFERING","FragmentTimecode":}' : JSON.stringify(a));
    };
    let fragments = 0;
    /** Each fragment's timecode, as its Cluster's Timecode says (NaN: none found; then (n - 1) * 1000). */
    const timecodes: number[] = [];
    const timecode = (n: number) => (Number.isNaN(timecodes[n - 1]) ? (n - 1) * 1000 : timecodes[n - 1]);
    const complete = (n: number) => {
      const number = `9134385233318956923462746328${String(n).padStart(20, '0')}`;
      ack({ EventType: 'RECEIVED', FragmentTimecode: timecode(n), FragmentNumber: number });
      ack({ EventType: 'PERSISTED', FragmentTimecode: timecode(n), FragmentNumber: number });
    };
    let closed = false;
    let body: Buffer;
    try {
      ({ body } = await this.receive(req, (clusterTimecode) => {
        timecodes.push(clusterTimecode);
        if (misbehave === 'end-early' && fragments === 2) {
          res.end();
          closed = true;
          return false;
        }
        // the service's rule: fragment timecodes never go back (4004 FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS)
        const errorId = fragments > 1 && timecode(fragments) < timecode(fragments - 1) ? 4004
          : this.errorId !== undefined && fragments > this.errorAfterFragments ? this.errorId : undefined;
        if (errorId !== undefined) {
          ack({ EventType: 'ERROR', FragmentTimecode: timecode(fragments), ErrorId: errorId });
          // like the service: the acknowledgements are flushed, then the connection is closed
          // (with the body still coming: a reset)
          const socket = req.socket;
          res.end(() => socket?.destroy());
          closed = true;
          return false;
        }
        if (misbehave === 'stray-brace' && fragments === 2) {
          write('}');
        }
        ack({ EventType: 'BUFFERING', FragmentTimecode: timecode(fragments) });
        return true;
      }, () => {
        fragments++;
        if (fragments > 1) {
          complete(fragments - 1);
        }
      }));
    } catch {
      return; // the client went away
    }
    session.body = body;
    if (!closed && fragments > 0) {
      complete(fragments);
    }
    if (!res.writableEnded) {
      res.end();
    }
  }

  /**
   * Reads a request body, calling `onCluster` with each Matroska Cluster's Timecode (an id or a
   * Timecode split across chunks included); stops reading when it answers false. Returns the bytes
   * read (kept if `keepBodies`).
   */
  private async receive(req: IncomingMessage, onCluster: (timecode: number) => boolean, onClusterStart: () => void = () => undefined): Promise<{ body: Buffer; bytes: number }> {
    const received: Buffer[] = [];
    let bytes = 0;
    let first = 0n;
    let last = 0n;
    /** Bytes of the previous chunk still to look at: its last 3 (an id split across chunks), or a Cluster whose Timecode has not come yet. */
    let tail = Buffer.alloc(0);
    /** The Cluster at the start of `tail` was announced (`onClusterStart`) and waits for its Timecode. */
    let announced = false;
    const done = () => {
      this.timings.push({ url: String(req.url), bytes, first, last });
      return { body: this.keepBodies ? Buffer.concat(received) : Buffer.alloc(0), bytes };
    };
    for await (const data of req) {
      const chunk = data as Buffer;
      last = process.hrtime.bigint();
      if (bytes === 0) {
        first = last;
      }
      bytes += chunk.length;
      if (this.keepBodies) {
        received.push(chunk);
      }
      const buf = tail.length > 0 ? Buffer.concat([tail, chunk]) : chunk;
      let keepFrom = Math.max(0, buf.length - 3);
      for (let i = buf.indexOf(CLUSTER_ID); i >= 0; i = buf.indexOf(CLUSTER_ID, i + 4)) {
        if (!(announced && i === 0)) {
          onClusterStart(); // the previous Cluster is complete
        }
        announced = false;
        const timecode = clusterTimecode(buf, i);
        if (timecode === undefined) {
          keepFrom = i; // wait for the rest of its header
          announced = true;
          break;
        }
        if (!onCluster(timecode)) {
          return done();
        }
      }
      tail = Buffer.from(buf.subarray(keepFrom));
    }
    return done();
  }
}

/** EBML variable-size integer at `at`: value and length; undefined when `buf` ends first. */
function vint(buf: Buffer, at: number): { value: number; length: number } | undefined {
  if (at >= buf.length) return undefined;
  const length = buf[at] === 0 ? 9 : Math.clz32(buf[at]) - 23;
  if (at + length > buf.length) return undefined;
  let value = buf[at] & (0xff >> length);
  for (let k = 1; k < length; k++) value = value * 256 + buf[at + k];
  return { value, length };
}

/**
 * The Timecode of the Cluster whose id is at `at`: its first child elements are read until the
 * Timecode (0xE7); undefined when `buf` ends before it. NaN when there is none among its first 8.
 */
function clusterTimecode(buf: Buffer, at: number): number | undefined {
  const size = vint(buf, at + 4);
  if (!size) return undefined;
  let p = at + 4 + size.length;
  for (let child = 0; child < 8 && p < at + 256; child++) {
    if (p >= buf.length) return undefined;
    const idLength = buf[p] === 0 ? 9 : Math.clz32(buf[p]) - 23;
    if (idLength > 4) return NaN;
    const childSize = vint(buf, p + idLength);
    if (!childSize) return undefined;
    const start = p + idLength + childSize.length;
    if (idLength === 1 && buf[p] === 0xe7) {
      if (start + childSize.value > buf.length) return undefined;
      let value = 0;
      for (let k = 0; k < childSize.value; k++) value = value * 256 + buf[start + k];
      return value;
    }
    p = start + childSize.value;
  }
  return NaN;
}
