/**
 * A local Kinesis Video Streams endpoint for the frame sampler: GetDataEndpoint (REST-JSON, POST
 * /getDataEndpoint, answering this server's own URL as the data endpoint) and archived media's
 * GetImages (POST /getImages), both SigV4-checked for `kinesisvideo`, with the service's rules:
 * - StartTimestamp..EndTimestamp at most 300 s apart, SamplingInterval >= 200 ms, MaxResults 1-100
 *   (default 25), ImageSelectorType and Format required (InvalidArgumentException otherwise);
 * - a stream without data retention answers NoDataRetentionException; an unknown stream
 *   ResourceNotFoundException;
 * - one image per sampling point: NO_MEDIA where the stream holds no video, MEDIA_ERROR where the
 *   test says so; a StartTimestamp inside a fragment misses that fragment's first sampling point
 *   (as the documentation warns);
 * - pagination with NextToken; scripted errors (`fail`), e.g. ClientLimitExceededException.
 * The video is `render(timeMs)` at 5 frames per second, in fragments of 2 s.
 *
 * Live ingest: the server's `clock` (a ManualClock the test advances, or the real clock) is "now".
 * A frame exists once its time has passed; it is readable only once its whole fragment is complete
 * and persisted (fragment end + `persistDelayMs` <= now), as the real service serves only stored,
 * complete fragments; until then its sampling point answers NO_MEDIA. A span may run to Infinity (a
 * camera still streaming). Answers carry the clock in their Date header, as AWS's do.
 * `onGetImages` runs after each GetImages answer (a scripted time source: advance the clock per call).
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { LocalServer } from './local-server';

export interface FakeVideoStream {
  readonly arn: string;
  readonly retentionHours: number;
  /** [from, to) epoch ms spans holding video */
  readonly media: Array<[number, number]>;
  /** the frame shown at a time (ms, on the 200 ms frame grid) */
  readonly render: (timeMs: number) => Buffer;
  /** sampling times (ms) answered MEDIA_ERROR */
  readonly mediaErrors?: Set<number>;
  /** fragment duration (ms), from each span's start @default FRAGMENT_MS */
  readonly fragmentMs?: number;
  /** time from a fragment's end until it is readable @default 0 */
  readonly persistDelayMs?: number;
}

/** A time source the test controls: nothing in it moves on its own. */
export class ManualClock {
  constructor(public now: number) {}
  public advance(ms: number): void {
    this.now += ms;
  }
  public readonly read = () => this.now;
}

const AUTH = /^AWS4-HMAC-SHA256 Credential=[A-Z0-9]+\/\d{8}\/([a-z0-9-]+)\/kinesisvideo\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/;
export const FRAGMENT_MS = 2000;
export const FRAME_MS = 200;

class KvsError extends Error {
  constructor(public readonly type: string, message: string, public readonly status = 400) {
    super(message);
  }
}

export class FakeKvsImages {
  public readonly streams = new Map<string, FakeVideoStream>();
  public readonly calls: Array<{ path: string; body: Record<string, any> }> = [];
  /** images answered (with content) */
  public imagesServed = 0;
  /** "now" for live ingest and the Date header */
  public clock: () => number = Date.now;
  /** called after each GetImages answer */
  public onGetImages?: (body: Record<string, any>) => void;
  private faults: Array<{ path: string; type: string; times: number; status: number }> = [];
  private readonly cache = new Map<string, Buffer>();
  private url = '';
  private readonly server = new LocalServer((req, res) => this.handle(req, res), (res, error) => this.reply(res, 500, { message: String(error) }, 'InternalFailure'));

  public async start(): Promise<string> {
    this.url = await this.server.start();
    return this.url;
  }

  public stop(): Promise<void> {
    return this.server.stop();
  }

  public reset(): void {
    this.streams.clear();
    this.calls.length = 0;
    this.faults = [];
    this.cache.clear();
    this.imagesServed = 0;
    this.clock = Date.now;
    this.onGetImages = undefined;
  }

  public addStream(stream: FakeVideoStream): void {
    this.streams.set(stream.arn, stream);
  }

  /** The next `times` calls of `path` (`/getImages`, `/getDataEndpoint`) fail with `type`. */
  public fail(path: string, type: string, times = 1, status = 400): void {
    this.faults.push({ path, type, times, status });
  }

  public callsOf(path: string) {
    return this.calls.filter((c) => c.path === path);
  }

  private reply(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amzn-requestid': `req-${this.calls.length}`, date: new Date(this.clock()).toUTCString() };
    if (errorType) headers['x-amzn-errortype'] = `${errorType}:http://internal.amazon.com/coral/com.amazonaws.kinesis.video/`;
    res.writeHead(status, headers);
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    try {
      if (!AUTH.test(String(req.headers.authorization ?? '')) || !req.headers['x-amz-date']) {
        throw new KvsError('UnrecognizedClientException', `request is not SigV4-signed for kinesisvideo: ${req.headers.authorization}`, 403);
      }
      const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      const path = String(req.url);
      this.calls.push({ path, body });
      const fault = this.faults.find((f) => f.path === path && f.times > 0);
      if (fault) {
        fault.times--;
        throw new KvsError(fault.type, `scripted ${fault.type}`, fault.status);
      }
      if (req.method === 'POST' && path === '/getDataEndpoint') {
        this.stream(body.StreamARN);
        if (!['GET_IMAGES', 'GET_MEDIA', 'PUT_MEDIA', 'GET_HLS_STREAMING_SESSION_URL', 'GET_CLIP', 'GET_MEDIA_FOR_FRAGMENT_LIST', 'LIST_FRAGMENTS', 'GET_DASH_STREAMING_SESSION_URL'].includes(body.APIName)) {
          throw new KvsError('InvalidArgumentException', `APIName ${body.APIName} is not valid`);
        }
        this.reply(res, 200, { DataEndpoint: this.url });
        return;
      }
      if (req.method === 'POST' && path === '/getImages') {
        this.reply(res, 200, this.getImages(body));
        this.onGetImages?.(body);
        return;
      }
      throw new KvsError('UnknownOperationException', `${req.method} ${path} is not an operation of this fake`, 404);
    } catch (error) {
      const e = error instanceof KvsError ? error : new KvsError('InternalFailure', String(error), 500);
      this.reply(res, e.status, { message: e.message }, e.type);
    }
  }

  private stream(arn: unknown): FakeVideoStream {
    const stream = typeof arn === 'string' ? this.streams.get(arn) : undefined;
    if (!stream) throw new KvsError('ResourceNotFoundException', `The requested stream ${String(arn)} is not found or not active.`, 404);
    return stream;
  }

  private getImages(body: Record<string, any>): unknown {
    const stream = this.stream(body.StreamARN);
    if (stream.retentionHours <= 0) {
      throw new KvsError('NoDataRetentionException', 'GetImages requires a stream with data retention greater than 0');
    }
    if (!['PRODUCER_TIMESTAMP', 'SERVER_TIMESTAMP'].includes(body.ImageSelectorType)) throw new KvsError('InvalidArgumentException', 'ImageSelectorType must be PRODUCER_TIMESTAMP or SERVER_TIMESTAMP');
    if (!['JPEG', 'PNG'].includes(body.Format)) throw new KvsError('InvalidArgumentException', 'Format must be JPEG or PNG');
    const start = Math.round(Number(body.StartTimestamp) * 1000);
    const end = Math.round(Number(body.EndTimestamp) * 1000);
    if (!Number.isFinite(start) || !Number.isFinite(end) || end < start) throw new KvsError('InvalidArgumentException', 'EndTimestamp must not be before StartTimestamp');
    if (end - start > 300_000) throw new KvsError('InvalidArgumentException', `The time range between StartTimestamp and EndTimestamp is more than 300 seconds: ${(end - start) / 1000}`);
    const interval = Number(body.SamplingInterval);
    if (!Number.isInteger(interval) || interval < 200) throw new KvsError('InvalidArgumentException', `SamplingInterval must be at least 200 ms, got ${body.SamplingInterval}`);
    const max = body.MaxResults ?? 25;
    if (!Number.isInteger(max) || max < 1 || max > 100) throw new KvsError('InvalidArgumentException', `MaxResults must be 1-100, got ${max}`);
    let k = 0;
    if (body.NextToken) {
      const token = JSON.parse(Buffer.from(body.NextToken, 'base64').toString('utf8'));
      if (token.start !== start || token.end !== end) throw new KvsError('InvalidArgumentException', 'NextToken does not belong to this request');
      k = token.k;
    }
    const images: Array<Record<string, unknown>> = [];
    const now = this.clock();
    const fragmentMs = stream.fragmentMs ?? FRAGMENT_MS;
    const inMedia = (t: number) => stream.media.find(([from, to]) => t >= from && t < to);
    // stored: inside a span, and its fragment complete and persisted by now
    const stored = (t: number) => {
      const span = inMedia(t);
      if (!span || t >= now) return undefined;
      const fragmentEnd = Math.min(span[0] + (Math.floor((t - span[0]) / fragmentMs) + 1) * fragmentMs, span[1]);
      return fragmentEnd + (stream.persistDelayMs ?? 0) <= now ? span : undefined;
    };
    // a start inside a fragment misses that fragment's first sampling point
    const span = stored(start);
    const missFirst = span !== undefined && (start - span[0]) % fragmentMs !== 0;
    for (; start + k * interval <= end && images.length < max; k++) {
      const t = start + k * interval;
      if (k === 0 && missFirst) continue;
      if (!stored(t)) {
        images.push({ TimeStamp: t / 1000, Error: 'NO_MEDIA' });
      } else if (stream.mediaErrors?.has(t)) {
        images.push({ TimeStamp: t / 1000, Error: 'MEDIA_ERROR' });
      } else {
        const frameTime = Math.floor(t / FRAME_MS) * FRAME_MS;
        const key = `${stream.arn}|${frameTime}`;
        let jpeg = this.cache.get(key);
        if (!jpeg) {
          jpeg = stream.render(frameTime);
          if (this.cache.size > 64) this.cache.delete(this.cache.keys().next().value!);
          this.cache.set(key, jpeg);
        }
        this.imagesServed++;
        images.push({ TimeStamp: t / 1000, ImageContent: jpeg.toString('base64') });
      }
    }
    const more = start + k * interval <= end;
    return { Images: images, ...(more ? { NextToken: Buffer.from(JSON.stringify({ start, end, k })).toString('base64') } : {}) };
  }
}
