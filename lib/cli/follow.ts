/**
 * `cdk-face-stream-pipeline follow`: follows a camera's Kinesis data stream live and prints each
 * record as the consumer parses it (lib/runtime/face-records/parser.ts): the faces, their matches
 * and the frame time, or the parse error of a record the consumer would send to its dead-letter
 * queue. One reader per shard: ListShards, GetShardIterator, GetRecords; a closed shard (no
 * NextShardIterator) hands over to its children; an expired iterator is renewed after the last
 * record read.
 */
import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  Shard,
  ShardIteratorType,
  _Record,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { FaceEvent, parseFaceRecord, RecordError } from '../runtime/face-records/parser';
import { EXIT, NO_REGION, CliError } from './exit';
import { flagValue } from './args';

export const FOLLOW_HELP = `Usage: cdk-face-stream-pipeline follow --stream <data-stream-name-or-arn> [options]

Follows a camera's Kinesis data stream (the face search records its engine writes, what the
consumer reads) and prints every record as the consumer parses it: each face, its best match
(externalImageId and similarity) and the frame time, or why the consumer would reject the record.

Options:
  --stream <name|arn>     the Kinesis data stream, by name or ARN (required): the camera's
                          dataStream (stack output <camera>DataStreamName)
  --region <region>       the AWS Region (default: AWS_REGION or your profile's Region)
  --from-start            read from the oldest record kept (TRIM_HORIZON) instead of new records only
  --json                  one JSON object per record and line: shardId, sequenceNumber,
                          arrivalTime, partitionKey, and faces (the consumer's face events) or error
  --max-records <n>       stop after n records
  --duration <s>          stop after s seconds
  --poll-interval <ms>    wait between GetRecords calls that return nothing (default: 1000)
  -h, --help              this help

The caller needs kinesis:ListShards, kinesis:GetShardIterator and kinesis:GetRecords on the stream.

Exit codes:
  0  stopped (--max-records, --duration, or every shard closed)
  1  usage error
  2  AWS error (stream not found, access denied, no credentials, no Region)
`;

interface FollowArgs {
  stream?: string;
  region?: string;
  fromStart: boolean;
  json: boolean;
  maxRecords?: number;
  durationMs?: number;
  pollMs: number;
  help: boolean;
}

function parseFollowArgs(argv: string[]): FollowArgs {
  const args: FollowArgs = { fromStart: false, json: false, pollMs: 1000, help: false };
  const value = (i: number, flag: string) => flagValue(argv, i, flag);
  const positive = (v: string, flag: string, what: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) {
      throw new CliError(EXIT.USAGE, `${flag} must be ${what} above 0, got ${JSON.stringify(v)}`);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    switch (arg) {
      case '-h':
      case '--help':
        args.help = true;
        break;
      case '--stream':
        args.stream = value(i++, arg);
        break;
      case '--region':
        args.region = value(i++, arg);
        break;
      case '--from-start':
        args.fromStart = true;
        break;
      case '--json':
        args.json = true;
        break;
      case '--max-records':
        args.maxRecords = Math.floor(positive(value(i++, arg), arg, 'a number of records'));
        break;
      case '--duration':
        args.durationMs = positive(value(i++, arg), arg, 'a number of seconds') * 1000;
        break;
      case '--poll-interval':
        args.pollMs = positive(value(i++, arg), arg, 'a number of milliseconds');
        break;
      default:
        throw new CliError(EXIT.USAGE, `unknown ${arg.startsWith('-') ? 'flag' : 'argument'} ${arg} (see follow --help)`);
    }
  }
  return args;
}

/** What `follow` prints for one record. */
export interface FollowedRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly arrivalTime?: string;
  readonly partitionKey?: string;
  /** When the record parsed: the consumer's face events (empty for a frame without faces). */
  readonly faces?: FaceEvent[];
  /** The frame time of a record without faces. */
  readonly frameTime?: string;
  /** When it did not: where and why, as the consumer reports it to its dead-letter queue. */
  readonly error?: { readonly path: string; readonly reason: string; readonly message: string };
}

export function describeRecord(shardId: string, record: _Record): FollowedRecord {
  const base = {
    shardId,
    sequenceNumber: record.SequenceNumber ?? '',
    ...(record.ApproximateArrivalTimestamp ? { arrivalTime: record.ApproximateArrivalTimestamp.toISOString() } : {}),
    ...(record.PartitionKey !== undefined ? { partitionKey: record.PartitionKey } : {}),
  };
  // the consumer gets the data base64-encoded, as Lambda hands it over
  const data = Buffer.from(record.Data ?? new Uint8Array()).toString('base64');
  try {
    const faces = parseFaceRecord(data);
    if (faces.length > 0) {
      return { ...base, faces };
    }
    return { ...base, faces, ...frameTimeOf(data) };
  } catch (error) {
    if (error instanceof RecordError) {
      return { ...base, error: { path: error.path, reason: error.reason, message: error.message } };
    }
    const e = error as Error;
    return { ...base, error: { path: '', reason: e.message, message: e.message } };
  }
}

function frameTimeOf(data: string): { frameTime?: string } {
  try {
    const kv = JSON.parse(Buffer.from(data, 'base64').toString('utf8')).InputInformation.KinesisVideo;
    return { frameTime: new Date(Math.round((kv.ProducerTimestamp + (kv.FrameOffsetInSeconds ?? 0)) * 1000)).toISOString() };
  } catch {
    return {};
  }
}

export function formatRecord(r: FollowedRecord): string {
  const head = `${r.arrivalTime ?? '-'} ${r.shardId} ${r.sequenceNumber}`;
  if (r.error) {
    return `${head}\n  not a face record: ${r.error.message}\n`;
  }
  const faces = r.faces ?? [];
  if (faces.length === 0) {
    return `${head}\n  frame ${r.frameTime ?? '?'}: no faces\n`;
  }
  const lines = [`${head}`, `  frame ${faces[0].frameTime} camera ${faces[0].camera}: ${faces.length} face${faces.length > 1 ? 's' : ''}`];
  for (const f of faces) {
    const what = f.match
      ? `matched ${f.match.externalImageId ?? f.match.faceId} (similarity ${f.match.similarity.toFixed(1)}${f.matches.length > 1 ? `, ${f.matches.length - 1} more match${f.matches.length > 2 ? 'es' : ''}` : ''})`
      : 'not matched';
    lines.push(`  face ${f.faceIndex + 1}: ${what}, confidence ${f.face.confidence.toFixed(1)}`);
  }
  return `${lines.join('\n')}\n`;
}

const sleep = (ms: number, stop: Promise<void>) => new Promise<void>((resolve) => {
  const t = setTimeout(resolve, ms);
  void stop.then(() => {
    clearTimeout(t);
    resolve();
  });
});

export async function follow(argv: string[]): Promise<number> {
  let args: FollowArgs;
  try {
    args = parseFollowArgs(argv);
    if (args.help) {
      process.stdout.write(FOLLOW_HELP);
      return EXIT.OK;
    }
    if (!args.stream) {
      throw new CliError(EXIT.USAGE, '--stream is required: the name or ARN of the camera\'s Kinesis data stream');
    }
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    return (error as CliError).exitCode ?? EXIT.USAGE;
  }
  try {
    await new Follower(args).run();
    return EXIT.OK;
  } catch (error) {
    const e = error as CliError;
    process.stderr.write(`error: ${e.message}\n`);
    return e.exitCode ?? EXIT.AWS;
  }
}

class Follower {
  private readonly client: KinesisClient;
  private readonly stream: { StreamName?: string; StreamARN?: string };
  private readonly started = new Set<string>();
  private readonly closed = new Set<string>();
  private readonly readers: Promise<void>[] = [];
  private printed = 0;
  private stopNow!: () => void;
  private readonly stopped = new Promise<void>((resolve) => (this.stopNow = resolve));
  private done = false;
  private failure?: Error;

  constructor(private readonly args: FollowArgs) {
    // HTTP/1.1: the client's default HTTP/2 handler is only needed for SubscribeToShard, not used here
    this.client = new KinesisClient({ region: args.region, requestHandler: new NodeHttpHandler() });
    this.stream = args.stream!.startsWith('arn:') ? { StreamARN: args.stream } : { StreamName: args.stream };
  }

  public async run(): Promise<void> {
    let region: string | undefined;
    try {
      region = await this.client.config.region();
    } catch {
      region = undefined;
    }
    if (!region) {
      throw new CliError(EXIT.AWS, NO_REGION);
    }
    const timer = this.args.durationMs !== undefined ? setTimeout(() => this.stop(), this.args.durationMs) : undefined;
    try {
      const shards = await this.listShards();
      // new records only: the open shards; from the start: every shard whose parents are gone
      const first = this.args.fromStart ? this.readyShards(shards) : shards.filter((s) => !s.SequenceNumberRange?.EndingSequenceNumber);
      for (const shard of first) {
        this.start(shard.ShardId!, this.args.fromStart ? 'TRIM_HORIZON' : 'LATEST');
      }
      // readers add readers (a closed shard starts its children): wait until none is left
      for (let n = 0; n < this.readers.length; n++) {
        await this.readers[n];
      }
      if (this.failure) {
        throw this.failure;
      }
    } finally {
      clearTimeout(timer);
      this.stop();
      this.client.destroy();
    }
  }

  private stop(): void {
    this.done = true;
    this.stopNow();
  }

  private async listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let token: string | undefined;
    do {
      const out = await this.call(() => this.client.send(new ListShardsCommand(token ? { NextToken: token } : { ...this.stream })), 'ListShards');
      shards.push(...(out.Shards ?? []));
      token = out.NextToken;
    } while (token);
    return shards;
  }

  /**
   * Shards not started whose parents (if the stream still lists them) are all read to their end;
   * with `of`, only the children of that shard.
   */
  private readyShards(shards: Shard[], of?: string): Shard[] {
    const listed = new Set(shards.map((s) => s.ShardId!));
    const parentDone = (id?: string) => !id || !listed.has(id) || this.closed.has(id);
    return shards.filter((s) => !this.started.has(s.ShardId!)
      && (of === undefined || s.ParentShardId === of || s.AdjacentParentShardId === of)
      && parentDone(s.ParentShardId) && parentDone(s.AdjacentParentShardId));
  }

  private start(shardId: string, type: ShardIteratorType): void {
    this.started.add(shardId);
    this.readers.push(this.read(shardId, type).catch((error) => {
      this.failure ??= error;
      this.stop();
    }));
  }

  private async call<T>(fn: () => Promise<T>, operation: string): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof ExpiredIteratorException) {
        throw error;
      }
      const e = error as Error;
      throw new CliError(EXIT.AWS, `${operation} on ${this.args.stream} failed: ${e.name}: ${e.message}`);
    }
  }

  private async iterator(shardId: string, type: ShardIteratorType, after?: string): Promise<string | undefined> {
    const out = await this.call(() => this.client.send(new GetShardIteratorCommand({
      ...this.stream,
      ShardId: shardId,
      ShardIteratorType: after ? 'AFTER_SEQUENCE_NUMBER' : type,
      ...(after ? { StartingSequenceNumber: after } : {}),
    })), 'GetShardIterator');
    return out.ShardIterator;
  }

  private async read(shardId: string, type: ShardIteratorType): Promise<void> {
    let last: string | undefined;
    let iterator = await this.iterator(shardId, type);
    while (iterator && !this.done) {
      let out;
      try {
        out = await this.call(() => this.client.send(new GetRecordsCommand({ ShardIterator: iterator, ...(this.stream.StreamARN ? { StreamARN: this.stream.StreamARN } : {}) })), 'GetRecords');
      } catch (error) {
        if (error instanceof ExpiredIteratorException) {
          // iterators last 5 minutes: carry on right after the last record read
          iterator = await this.iterator(shardId, type, last);
          continue;
        }
        throw error;
      }
      for (const record of out.Records ?? []) {
        if (this.done) {
          return;
        }
        last = record.SequenceNumber;
        const described = describeRecord(shardId, record);
        process.stdout.write(this.args.json ? `${JSON.stringify(described)}\n` : formatRecord(described));
        if (this.args.maxRecords !== undefined && ++this.printed >= this.args.maxRecords) {
          this.stop();
          return;
        }
      }
      iterator = out.NextShardIterator;
      if (iterator && (out.Records ?? []).length === 0 && !out.MillisBehindLatest) {
        await sleep(this.args.pollMs, this.stopped);
      }
    }
    if (this.done) {
      return;
    }
    // the shard is closed (split or merged): its children carry on from their start
    this.closed.add(shardId);
    process.stderr.write(`shard ${shardId} closed; following its child shards\n`);
    for (const child of this.readyShards(await this.listShards(), shardId)) {
      this.start(child.ShardId!, 'TRIM_HORIZON');
    }
  }
}
