/**
 * A local Kinesis Video Streams endpoint: GetDataEndpoint (REST-JSON, POST /getDataEndpoint) and
 * PutMedia (POST /putMedia: a chunked MKV body in, a stream of JSON acknowledgements out), both
 * SigV4-checked for `kinesisvideo`. It records the bytes received and acknowledges each Cluster
 * (fragment) with BUFFERING, RECEIVED and PERSISTED, or answers with a scripted ERROR ack.
 * POST /upload takes a plain body, for the benchmark's baseline.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { LocalServer } from './local-server';
import { CLUSTER_ID } from './mkv';

export interface PutMediaSession {
  readonly headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  readonly acks: unknown[];
}

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
    await this.server.stop();
  }

  public reset(): void {
    this.streams.clear();
    this.sessions.length = 0;
    this.calls.length = 0;
    this.errorId = undefined;
    this.errorAfterFragments = 0;
    this.httpError = undefined;
    this.uploadBytes = 0;
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
      const body = await receive(req, () => true);
      this.uploadBytes += body.length;
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
    res.writeHead(200, { 'content-type': 'application/json' });
    const ack = (a: Record<string, unknown>) => {
      session.acks.push(a);
      res.write(JSON.stringify(a));
    };
    let fragments = 0;
    let timecode = 0;
    session.body = await receive(req, () => {
      fragments++;
      if (this.errorId !== undefined && fragments > this.errorAfterFragments) {
        ack({ EventType: 'ERROR', FragmentTimecode: timecode, ErrorId: this.errorId });
        // like the service: the acknowledgements are flushed, then the connection is closed
        const socket = req.socket;
        res.end(() => socket?.destroy());
        return false;
      }
      const number = `9134385233318956923462746328${String(fragments).padStart(20, '0')}`;
      ack({ EventType: 'BUFFERING', FragmentTimecode: timecode });
      ack({ EventType: 'RECEIVED', FragmentTimecode: timecode, FragmentNumber: number });
      ack({ EventType: 'PERSISTED', FragmentTimecode: timecode, FragmentNumber: number });
      timecode += 1000;
      return true;
    });
    if (!res.writableEnded) {
      res.end();
    }
  }
}

/**
 * Reads a request body, calling `onCluster` at each Matroska Cluster id (one split across chunks
 * included); stops reading when it answers false. Returns the bytes read.
 */
async function receive(req: IncomingMessage, onCluster: () => boolean): Promise<Buffer> {
  const received: Buffer[] = [];
  let tail = Buffer.alloc(0);
  for await (const chunk of req) {
    received.push(chunk as Buffer);
    const window = tail.length > 0 ? Buffer.concat([tail, chunk as Buffer]) : (chunk as Buffer);
    for (let i = window.indexOf(CLUSTER_ID); i >= 0; i = window.indexOf(CLUSTER_ID, i + 4)) {
      if (i + 4 > tail.length && !onCluster()) {
        return Buffer.concat(received);
      }
    }
    tail = Buffer.from(window.subarray(Math.max(0, window.length - 3)));
  }
  return Buffer.concat(received);
}
