/**
 * One PutMedia request: the body streamed out with a few reused buffers (memory does not grow with
 * the file), the acknowledgements read as they come, and the outcome: every fragment (MKV Cluster,
 * by its timecode) PERSISTED, or the exit code that says why not.
 */
import { close, fstat, open, read, readSync } from 'node:fs';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { connect as netConnect, isIP, Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { EXIT, CliError } from './exit';
import { Ack, AckParser, cut, describeAck } from './acks';
import { MkvScanner, notMkv } from './mkv-scanner';


export interface PutMediaOptions {
  /** A stream name, or a stream ARN (arn:...:kinesisvideo:...). */
  readonly stream: string;
  /** The MKV file to send; read in place of `input` when given. */
  readonly file?: string;
  /** The MKV bytes, when `file` is not given (standard input). */
  readonly input?: Readable;
  readonly timecodeType: 'ABSOLUTE' | 'RELATIVE';
  /** Producer start time, epoch seconds. */
  readonly producerStartTimestamp: number;
  readonly region?: string;
  /** Called on every acknowledgement and every chunk sent. */
  readonly onProgress?: (progress: Progress) => void;
  /** Called for every problem that does not stop the upload by itself (a malformed acknowledgement). */
  readonly onWarning?: (message: string) => void;
  /**
   * How long to wait for an acknowledgement while one is due (a fragment sent and not yet
   * PERSISTED, or the body sent and the response not ended), in ms. Default 30 s.
   */
  readonly ackTimeoutMs?: number;
}

export interface Progress {
  bytesSent: number;
  /** Fragments (MKV Clusters) sent. */
  fragmentsSent: number;
  fragmentsBuffering: number;
  fragmentsReceived: number;
  fragmentsPersisted: number;
  lastAck?: Ack;
}

/** Body chunks: each a reused buffer of this size, so memory does not grow with the file. */
const CHUNK_BYTES = 1024 * 1024;
const BUFFERS = 3;

/** One PutMedia request: the body going out, the acknowledgements coming in, and the outcome. */
export class Upload {
  private readonly progress: Progress = { bytesSent: 0, fragmentsSent: 0, fragmentsBuffering: 0, fragmentsReceived: 0, fragmentsPersisted: 0 };
  private readonly scanner = new MkvScanner();
  /** Fragment timecodes sent (or acknowledged) and not yet PERSISTED, with how many of each. */
  private readonly pending = new Map<number, number>();
  private readonly malformed: string[] = [];
  private errorAck?: Ack;
  private bodyDone = false;
  private responding = false;
  private settled = false;
  private writeError?: Error;
  private req!: ClientRequest;
  private idle?: NodeJS.Timeout;
  private resolve!: (p: Progress) => void;
  private reject!: (e: Error) => void;
  private abort!: () => void;
  private readonly aborted = new Promise<void>((resolve) => (this.abort = resolve));

  constructor(private readonly url: URL, private readonly headers: Record<string, string>, private readonly options: PutMediaOptions) {
    this.scanner.onFragment = (timecode) => {
      this.progress.fragmentsSent++;
      this.pending.set(timecode, (this.pending.get(timecode) ?? 0) + 1);
    };
  }

  public async run(): Promise<Progress> {
    // TLS is loaded only for an https endpoint
    const https = this.url.protocol === 'https:';
    const { request: send } = https ? await import('node:https') : await import('node:http');
    const tlsConnect = https ? (await import('node:tls')).connect : undefined;
    return new Promise<Progress>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      const port = Number(this.url.port || (https ? 443 : 80));
      const host = this.url.hostname;
      this.req = send(this.url, {
        method: 'POST',
        headers: this.headers,
        createConnection: () => {
          const socket = tlsConnect
            ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ALPNProtocols: ['http/1.1'] })
            : netConnect({ host, port });
          this.keepReadingAfterWriteError(socket);
          return socket;
        },
      }, (res) => this.onResponse(res));
      this.req.on('error', (error) => {
        if (!this.responding) {
          this.fail(EXIT.HTTP, `PutMedia request failed: ${error.message}`);
        } else {
          this.conclude(`the connection to PutMedia failed (${error.message})`);
        }
      });
      this.req.on('finish', () => {
        this.bodyDone = true;
        this.checkDone();
      });
      const ackTimeoutMs = this.options.ackTimeoutMs ?? 30_000;
      this.idle = setTimeout(() => this.onIdle(ackTimeoutMs), ackTimeoutMs);
      this.pump().catch((error) => this.fail(EXIT.USAGE, `cannot read the input: ${(error as Error).message}`));
    });
  }

  /**
   * A write that fails because the service reset the connection (it closes it after an ERROR
   * acknowledgement, while the body is still coming) would make Node destroy the socket, and with
   * it the acknowledgements already received and not yet read. Instead the failure stops the body
   * and the response is read to its end: what the service said decides the outcome.
   */
  private keepReadingAfterWriteError(socket: Socket): void {
    const s = socket as Socket & { _writeGeneric?: (writev: boolean, data: unknown, encoding: string, cb: (error?: Error | null) => void) => unknown };
    const original = s._writeGeneric;
    if (typeof original !== 'function') {
      return;
    }
    s._writeGeneric = (writev, data, encoding, cb) => original.call(s, writev, data, encoding, (error?: Error | null) => {
      if (error) {
        this.writeError ??= error;
        this.abort();
      }
      cb();
    });
  }

  private async pump(): Promise<void> {
    const { file, input } = this.options;
    if (file !== undefined) {
      // node:fs callbacks rather than node:fs/promises, which would be one more module to load
      const fd = await new Promise<number>((resolve, reject) => open(file, 'r', (error, f) => (error ? reject(error) : resolve(f))));
      try {
        // a regular file is read synchronously: a read from the page cache costs less than the
        // thread pool round trip it would take; anything else (a FIFO, a device) may block, and is
        // read asynchronously so that acknowledgements and the --ack-timeout are still seen
        const regular = await new Promise<boolean>((resolve, reject) => fstat(fd, (error, stats) => (error ? reject(error) : resolve(stats.isFile()))));
        const buffers = Array.from({ length: BUFFERS }, () => Buffer.allocUnsafe(CHUNK_BYTES));
        const inFlight: Array<Promise<void> | undefined> = [];
        for (let n = 0; ; n++) {
          const slot = n % BUFFERS;
          if (inFlight[slot]) {
            await Promise.race([inFlight[slot], this.aborted]);
          }
          if (this.stopped()) {
            return;
          }
          const buffer = buffers[slot];
          const bytesRead = regular
            ? readSync(fd, buffer, 0, CHUNK_BYTES, null)
            : await new Promise<number>((resolve, reject) => read(fd, buffer, 0, CHUNK_BYTES, null, (error, bytes) => (error ? reject(error) : resolve(bytes))));
          if (bytesRead === 0 || this.stopped()) {
            break;
          }
          inFlight[slot] = this.write(bytesRead === CHUNK_BYTES ? buffer : buffer.subarray(0, bytesRead));
        }
        await Promise.race([Promise.all(inFlight), this.aborted]);
      } finally {
        close(fd, () => undefined);
      }
    } else if (input) {
      const inFlight: Array<Promise<void>> = [];
      for await (const chunk of input) {
        if (this.stopped()) {
          return;
        }
        inFlight.push(this.write(chunk as Buffer));
        if (inFlight.length >= BUFFERS) {
          await Promise.race([inFlight.shift(), this.aborted]);
        }
      }
      await Promise.race([Promise.all(inFlight), this.aborted]);
    }
    if (this.progress.bytesSent === 0 && !this.stopped()) {
      this.fail(EXIT.USAGE, notMkv(Buffer.alloc(0))!); // an empty input: nothing to send
    }
    if (!this.stopped()) {
      this.req.end();
    }
  }

  private stopped(): boolean {
    return this.settled || this.writeError !== undefined;
  }

  /** Resolves once the chunk is handed to the socket (its buffer may then be reused). */
  private write(chunk: Buffer): Promise<void> {
    const problem = this.progress.bytesSent === 0 ? notMkv(chunk, false) : undefined;
    if (problem !== undefined) {
      // an input that could not be checked before the request (a FIFO): refused before its first byte goes out
      this.fail(EXIT.USAGE, problem);
      return Promise.resolve();
    }
    // handed to the socket first, so that the kernel sends it while the chunk is scanned (a write
    // callback never runs before this returns, nor does an acknowledgement)
    const written = new Promise<void>((resolve) => {
      this.req.write(chunk, () => resolve());
    });
    this.scanner.push(chunk);
    if (this.scanner.invalid !== undefined) {
      this.fail(EXIT.INVALID_MEDIA, `${this.scanner.invalid}; sending stopped there. Rekognition needs each fragment (MKV Cluster) to start with an I-frame and to hold no frame of another; with ffmpeg: -g <keyframe interval> -x264-params open-gop=0 -cluster_size_limit 10M -cluster_time_limit 10000 (its muxer otherwise starts Clusters between keyframes when writing to a pipe)`);
      return written;
    }
    this.progress.bytesSent += chunk.length;
    this.idle?.refresh();
    this.options.onProgress?.(this.progress);
    return written;
  }

  private onResponse(res: IncomingMessage): void {
    this.responding = true;
    if (res.statusCode !== 200) {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body.length < 4096 ? (body += chunk) : undefined));
      res.on('end', () => {
        let message = body;
        try {
          const parsed = JSON.parse(body);
          message = `${parsed.__type ?? parsed.code ?? ''} ${parsed.message ?? parsed.Message ?? ''}`.trim();
        } catch {
          // not JSON: keep the text
        }
        this.fail(EXIT.HTTP, `PutMedia answered HTTP ${res.statusCode}: ${message || res.statusMessage}`);
      });
      res.on('error', () => this.fail(EXIT.HTTP, `PutMedia answered HTTP ${res.statusCode}: ${res.statusMessage}`));
      return;
    }
    const parser = new AckParser();
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      const { acks, malformed } = parser.push(chunk);
      this.onMalformed(malformed);
      for (const ack of acks) {
        this.onAck(ack);
        if (this.settled) {
          return;
        }
      }
      this.idle?.refresh();
    });
    res.on('end', () => {
      this.onMalformed(parser.end());
      this.conclude('PutMedia ended its response');
    });
    res.on('close', () => {
      if (!res.complete) {
        this.onMalformed(parser.end());
        this.conclude(`the connection to PutMedia closed${this.writeError ? ` (${this.writeError.message})` : ''} before the response ended`);
      }
    });
    res.on('error', (error) => this.conclude(`the PutMedia response failed (${error.message})`));
  }

  private onMalformed(malformed: string[]): void {
    for (const text of malformed) {
      this.malformed.push(text);
      this.options.onWarning?.(`PutMedia sent something that is not an acknowledgement: ${cut(text)}`);
    }
  }

  private onAck(ack: Ack): void {
    const p = this.progress;
    p.lastAck = ack;
    const tc = ack.FragmentTimecode;
    switch (ack.EventType) {
      case 'BUFFERING':
        p.fragmentsBuffering++;
        if (tc !== undefined && this.scanner.lost !== undefined && !this.pending.has(tc)) {
          this.pending.set(tc, 1); // the scanner lost the structure: the service's count decides
        }
        break;
      case 'RECEIVED':
        p.fragmentsReceived++;
        break;
      case 'PERSISTED': {
        p.fragmentsPersisted++;
        const left = tc === undefined ? undefined : this.pending.get(tc);
        if (left !== undefined) {
          if (left <= 1) {
            this.pending.delete(tc!);
          } else {
            this.pending.set(tc!, left - 1);
          }
        }
        break;
      }
      case 'ERROR':
        this.errorAck = ack;
        this.options.onProgress?.(p);
        this.conclude('an ERROR acknowledgement');
        return;
      default:
        break;
    }
    this.options.onProgress?.(p);
    this.checkDone();
  }

  /** The body is sent and every fragment in it PERSISTED: nothing more can change the outcome. */
  private checkDone(): void {
    if (this.bodyDone && this.pending.size === 0 && this.progress.fragmentsSent > 0 && this.scanner.lost === undefined) {
      this.conclude('every fragment was acknowledged PERSISTED');
    }
  }

  private onIdle(ackTimeoutMs: number): void {
    if (this.settled) {
      return;
    }
    if (this.pending.size > 0 || this.bodyDone) {
      this.conclude(`no acknowledgement from PutMedia for ${ackTimeoutMs / 1000} s (--ack-timeout)`);
    } else {
      this.idle?.refresh(); // nothing is due: the input is slow, not the service
    }
  }

  private outstanding(): string {
    const timecodes: number[] = [];
    let count = 0;
    for (const [tc, n] of this.pending) {
      count += n;
      if (timecodes.length < 5) {
        timecodes.push(tc);
      }
    }
    if (count === 0) {
      return `${this.progress.fragmentsSent} fragments sent`;
    }
    return `${count} of ${this.progress.fragmentsSent} fragments sent not acknowledged PERSISTED (fragment timecodes ${timecodes.join(', ')}${count > timecodes.length ? ', ...' : ''})`;
  }

  /** Decides the outcome from everything seen so far; the first decision stands. */
  private conclude(why: string): void {
    if (this.settled) {
      return;
    }
    if (this.errorAck) {
      const ack = this.errorAck;
      this.fail(EXIT.ACK_ERROR, describeAck(ack), ack.ErrorId);
    } else if (this.malformed.length > 0) {
      this.fail(EXIT.PROTOCOL, `PutMedia sent ${this.malformed.length} malformed acknowledgement${this.malformed.length > 1 ? 's' : ''} (the first: ${cut(this.malformed[0])}); ${this.outstanding()}`);
    } else if (!this.bodyDone || this.pending.size > 0) {
      this.fail(EXIT.NOT_PERSISTED, `${why}${this.bodyDone ? '' : ` with ${this.progress.bytesSent} bytes of the input sent and the rest not`}: ${this.outstanding()}`);
    } else if (this.scanner.lost !== undefined) {
      // the fragments of the rest of the input are not known: none of them can be said PERSISTED
      this.fail(EXIT.NOT_PERSISTED, `${why}, but the input stopped being an MKV put-media can follow (${this.scanner.lost}): the fragments after that point cannot be checked; ${this.outstanding()}`);
    } else if (this.progress.fragmentsSent === 0) {
      this.fail(EXIT.USAGE, `${why}: the input holds no fragment (MKV Cluster), so nothing was persisted`);
    } else {
      this.finish();
      this.resolve(this.progress);
    }
  }

  private fail(code: number, message: string, errorId?: number): void {
    if (this.settled) {
      return;
    }
    this.finish();
    this.reject(new CliError(code, message, errorId));
  }

  private finish(): void {
    this.settled = true;
    clearTimeout(this.idle);
    this.abort();
    this.req.destroy();
  }
}
