/**
 * PutMedia: streams an MKV file (or standard input) into a Kinesis video stream.
 *
 * 1. GetDataEndpoint (APIName PUT_MEDIA) through the SDK v3 Kinesis Video client;
 * 2. POST /putMedia to that endpoint, SigV4-signed for `kinesisvideo` with the standard credential
 *    chain and Region, with the headers the KVS API reference specifies
 *    (x-amzn-stream-name or x-amzn-stream-arn, x-amzn-fragment-timecode-type,
 *    x-amzn-producer-start-timestamp), the MKV as a chunked body;
 * 3. reads the acknowledgement stream (BUFFERING, RECEIVED, PERSISTED, ERROR, IDLE).
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { GetDataEndpointCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { SignatureV4 } from '@smithy/signature-v4';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable, Transform } from 'node:stream';

export interface PutMediaOptions {
  /** A stream name, or a stream ARN (arn:...:kinesisvideo:...). */
  readonly stream: string;
  readonly input: Readable;
  readonly timecodeType: 'ABSOLUTE' | 'RELATIVE';
  /** Producer start time, epoch seconds. */
  readonly producerStartTimestamp: number;
  readonly region?: string;
  /** Called on every acknowledgement and every chunk sent. */
  readonly onProgress?: (progress: Progress) => void;
  /** How long to wait for the last acknowledgements once the body is sent (ms). */
  readonly drainTimeoutMs?: number;
}

export interface Ack {
  readonly EventType: 'BUFFERING' | 'RECEIVED' | 'PERSISTED' | 'ERROR' | 'IDLE';
  readonly FragmentTimecode?: number;
  readonly FragmentNumber?: string;
  readonly ErrorId?: number;
  readonly ErrorCode?: string;
}

export interface Progress {
  bytesSent: number;
  fragmentsBuffering: number;
  fragmentsReceived: number;
  fragmentsPersisted: number;
  lastAck?: Ack;
}

/** A failure with the exit code the CLI reports it under. */
export class PutMediaError extends Error {
  constructor(public readonly exitCode: number, message: string, public readonly errorId?: number) {
    super(message);
  }
}

export const EXIT = {
  OK: 0,
  USAGE: 1,
  AWS: 2,
  HTTP: 3,
  ACK_ERROR: 4,
} as const;

/** The KVS PutMedia acknowledgement error ids, in words. */
export const ACK_ERRORS: Record<number, [string, string]> = {
  4000: ['STREAM_READ_ERROR', 'Kinesis Video Streams could not read the data you sent.'],
  4001: ['MAX_FRAGMENT_SIZE_REACHED', 'A fragment is larger than the 50 MB limit.'],
  4002: ['MAX_FRAGMENT_DURATION_REACHED', 'A fragment is longer than the allowed duration.'],
  4003: ['MAX_CONNECTION_DURATION_REACHED', 'The connection lasted longer than the limit; start a new PutMedia session.'],
  4004: ['FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS', 'A fragment timecode is lower than the previous one.'],
  4005: ['MORE_THAN_ALLOWED_TRACKS_FOUND', 'The MKV has more tracks than allowed.'],
  4006: ['INVALID_MKV_DATA', 'The data is not valid MKV.'],
  4007: ['INVALID_PRODUCER_TIMESTAMP', 'The producer timestamp is not valid.'],
  4008: ['STREAM_NOT_ACTIVE', 'The stream is not active (it may be deleted or being created).'],
  4009: ['FRAGMENT_METADATA_LIMIT_REACHED', 'A fragment has too many metadata entries.'],
  4010: ['TRACK_NUMBER_MISMATCH', 'A frame names a track number that is not in the MKV header.'],
  4011: ['FRAMES_MISSING_FOR_TRACK', 'A fragment has no frame for one of the tracks.'],
  4500: ['KMS_KEY_ACCESS_DENIED', 'Kinesis Video Streams may not use the stream\'s KMS key.'],
  4501: ['KMS_KEY_DISABLED', 'The stream\'s KMS key is disabled.'],
  4502: ['KMS_KEY_VALIDATION_ERROR', 'The stream\'s KMS key could not be validated.'],
  4503: ['KMS_KEY_UNAVAILABLE', 'The stream\'s KMS key is unavailable; try again.'],
  4504: ['KMS_KEY_INVALID_USAGE', 'The stream\'s KMS key is not a symmetric encryption key.'],
  4505: ['KMS_KEY_INVALID_STATE', 'The stream\'s KMS key is not in a usable state.'],
  4506: ['KMS_KEY_NOT_FOUND', 'The stream\'s KMS key was not found.'],
  5000: ['INTERNAL_ERROR', 'Kinesis Video Streams had an internal error; try again.'],
  5001: ['ARCHIVAL_ERROR', 'Kinesis Video Streams could not store the fragment; try again.'],
};

export function describeAck(ack: Ack): string {
  const [name, sentence] = ACK_ERRORS[ack.ErrorId ?? -1] ?? [ack.ErrorCode ?? 'UNKNOWN_ERROR', 'Kinesis Video Streams reported an error.'];
  return `ERROR ${ack.ErrorId ?? '?'} ${name}: ${sentence}${ack.FragmentTimecode !== undefined ? ` (fragment timecode ${ack.FragmentTimecode})` : ''}`;
}

/** Splits the acknowledgement stream (JSON objects, one after the other) as it arrives. */
export class AckParser {
  private buffer = '';

  public push(text: string): Ack[] {
    this.buffer += text;
    const acks: Ack[] = [];
    let depth = 0;
    let start = -1;
    let inString = false;
    let consumed = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (inString) {
        if (c === '\\') {
          i++;
        } else if (c === '"') {
          inString = false;
        }
        continue;
      }
      if (c === '"') {
        inString = true;
      } else if (c === '{') {
        if (depth === 0) {
          start = i;
        }
        depth++;
      } else if (c === '}') {
        depth--;
        if (depth === 0 && start >= 0) {
          acks.push(JSON.parse(this.buffer.slice(start, i + 1)));
          consumed = i + 1;
          start = -1;
        }
      }
    }
    this.buffer = this.buffer.slice(consumed);
    return acks;
  }
}

const isArn = (stream: string) => stream.startsWith('arn:');

export async function putMedia(options: PutMediaOptions): Promise<Progress> {
  const client = new KinesisVideoClient({ region: options.region });
  let endpoint: string;
  try {
    const response = await client.send(
      new GetDataEndpointCommand({ ...(isArn(options.stream) ? { StreamARN: options.stream } : { StreamName: options.stream }), APIName: 'PUT_MEDIA' }),
    );
    endpoint = response.DataEndpoint ?? '';
  } catch (error) {
    const e = error as Error;
    throw new PutMediaError(EXIT.AWS, `GetDataEndpoint for ${options.stream} failed: ${e.name}: ${e.message}`);
  }
  const url = new URL('/putMedia', endpoint);
  const region = await client.config.region();
  const credentials = await client.config.credentials();
  const signer = new SignatureV4({ service: 'kinesisvideo', region, credentials, sha256: Sha256 });
  const headers: Record<string, string> = {
    'host': url.host,
    'x-amzn-fragment-timecode-type': options.timecodeType,
    'x-amzn-producer-start-timestamp': options.producerStartTimestamp.toFixed(3),
    'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    'transfer-encoding': 'chunked',
    'content-type': 'application/octet-stream',
  };
  headers[isArn(options.stream) ? 'x-amzn-stream-arn' : 'x-amzn-stream-name'] = options.stream;
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: {},
      headers,
    },
    { unsignableHeaders: new Set(['transfer-encoding']) },
  );

  const progress: Progress = { bytesSent: 0, fragmentsBuffering: 0, fragmentsReceived: 0, fragmentsPersisted: 0 };
  const report = () => options.onProgress?.(progress);

  return new Promise<Progress>((resolve, reject) => {
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) {
        return;
      }
      settled = true;
      clearTimeout(drainTimer);
      if (error) {
        req.destroy();
        reject(error);
      } else {
        resolve(progress);
      }
    };
    let drainTimer: NodeJS.Timeout | undefined;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let responding = false;
    const req = send(url, { method: 'POST', headers: signed.headers }, (res) => {
      responding = true;
      if (res.statusCode !== 200) {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => {
          let message = body;
          try {
            const parsed = JSON.parse(body);
            message = `${parsed.__type ?? parsed.code ?? ''} ${parsed.message ?? parsed.Message ?? ''}`.trim();
          } catch {
            // not JSON: keep the text
          }
          finish(new PutMediaError(EXIT.HTTP, `PutMedia answered HTTP ${res.statusCode}: ${message || res.statusMessage}`));
        });
        return;
      }
      const parser = new AckParser();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        for (const ack of parser.push(chunk)) {
          progress.lastAck = ack;
          if (ack.EventType === 'BUFFERING') {
            progress.fragmentsBuffering++;
          } else if (ack.EventType === 'RECEIVED') {
            progress.fragmentsReceived++;
          } else if (ack.EventType === 'PERSISTED') {
            progress.fragmentsPersisted++;
          } else if (ack.EventType === 'ERROR') {
            report();
            finish(new PutMediaError(EXIT.ACK_ERROR, describeAck(ack), ack.ErrorId));
            return;
          }
          report();
        }
      });
      res.on('end', () => finish());
      res.on('close', () => {
        if (!res.complete) {
          finish(new PutMediaError(EXIT.HTTP, 'the connection closed before PutMedia finished its acknowledgements'));
        }
      });
      res.on('error', (error) => finish(new PutMediaError(EXIT.HTTP, `PutMedia response failed: ${error.message}`)));
    });
    req.on('error', (error) => {
      // once the service answers, its acknowledgements say why it stopped reading (an ERROR ack
      // closes the connection): the response decides the outcome
      if (!responding) {
        finish(new PutMediaError(EXIT.HTTP, `PutMedia request failed: ${error.message}`));
      }
    });

    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        progress.bytesSent += chunk.length;
        report();
        callback(null, chunk);
      },
    });
    options.input.on('error', (error) => finish(new PutMediaError(EXIT.USAGE, `cannot read the input: ${error.message}`)));
    options.input.pipe(counter).pipe(req);
    req.on('finish', () => {
      // the body is sent: the last acknowledgements follow, then the service closes the response
      drainTimer = setTimeout(() => finish(), options.drainTimeoutMs ?? 30_000);
    });
  });
}
