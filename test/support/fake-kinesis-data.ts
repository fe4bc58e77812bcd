/**
 * A local Kinesis Data Streams endpoint (JSON 1.1: X-Amz-Target Kinesis_20131202.<Operation>, the
 * protocol the installed SDK v3 client speaks): ListShards, GetShardIterator, GetRecords, with
 * shards that can be split while a reader follows them and iterators that can be made to expire.
 */
import { ApiError, AwsJsonServer } from './aws-json-server';

interface FakeRecord {
  readonly SequenceNumber: string;
  readonly Data: string;
  readonly PartitionKey: string;
  readonly ApproximateArrivalTimestamp: number;
}

interface FakeShard {
  readonly ShardId: string;
  readonly ParentShardId?: string;
  readonly records: FakeRecord[];
  readonly start: bigint;
  closed: boolean;
}

interface Iterator {
  readonly stream: string;
  readonly shardId: string;
  position: number;
}

const HASH_MAX = '340282366920938463463374607431768211455';

export class FakeKinesisData extends AwsJsonServer {
  public readonly streams = new Map<string, FakeShard[]>();
  /** The next GetRecords on an iterator past the first record of a shard fails with ExpiredIteratorException. */
  public expireOnce = false;
  /** Records per GetRecords answer. */
  public recordsPerCall = 2;
  private readonly iterators = new Map<string, Iterator>();
  private sequence = 1000n;
  private shards = 0;

  constructor() {
    super('Kinesis_20131202', 'application/x-amz-json-1.1', 'kinesis');
  }

  public reset(): void {
    super.reset();
    this.streams.clear();
    this.iterators.clear();
    this.expireOnce = false;
    this.recordsPerCall = 2;
    this.shards = 0;
  }

  /** A stream with `shards` open shards; answers their ids. */
  public createStream(name: string, shards = 1): string[] {
    this.streams.set(name, []);
    return Array.from({ length: shards }, () => this.addShard(name));
  }

  /** Appends a record (the data is JSON-encoded unless it is a Buffer or a string). */
  public put(stream: string, shardId: string, data: unknown, partitionKey = 'front-door'): string {
    const shard = this.shard(stream, shardId);
    if (shard.closed) {
      throw new Error(`${shardId} is closed`);
    }
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(typeof data === 'string' ? data : JSON.stringify(data));
    const SequenceNumber = String(this.sequence++).padStart(56, '4');
    shard.records.push({ SequenceNumber, Data: bytes.toString('base64'), PartitionKey: partitionKey, ApproximateArrivalTimestamp: 1700000000 + shard.records.length });
    return SequenceNumber;
  }

  /** Closes the shard and opens two children (a split); answers the children's ids. */
  public split(stream: string, shardId: string): [string, string] {
    this.shard(stream, shardId).closed = true;
    return [this.addShard(stream, shardId), this.addShard(stream, shardId)];
  }

  private addShard(stream: string, parent?: string): string {
    const ShardId = `shardId-${String(this.shards++).padStart(12, '0')}`;
    this.streams.get(stream)!.push({ ShardId, ParentShardId: parent, records: [], start: this.sequence, closed: false });
    return ShardId;
  }

  private shard(stream: string, shardId: string): FakeShard {
    const shard = this.streams.get(stream)?.find((s) => s.ShardId === shardId);
    if (!shard) {
      throw new ApiError('ResourceNotFoundException', `Shard ${shardId} in stream ${stream} under account 123456789012 does not exist`);
    }
    return shard;
  }

  private streamName(body: Record<string, any>): string {
    const name = body.StreamName ?? (typeof body.StreamARN === 'string' ? body.StreamARN.split('/')[1] : undefined);
    if (!name || !this.streams.has(name)) {
      throw new ApiError('ResourceNotFoundException', `Stream ${name} under account 123456789012 not found.`);
    }
    return name;
  }

  protected dispatch(operation: string, body: Record<string, any>): unknown {
    switch (operation) {
      case 'ListShards': {
        if (body.NextToken) {
          throw new ApiError('InvalidArgumentException', 'the fake never paginates');
        }
        const stream = this.streamName(body);
        return {
          Shards: this.streams.get(stream)!.map((s) => ({
            ShardId: s.ShardId,
            ...(s.ParentShardId ? { ParentShardId: s.ParentShardId } : {}),
            HashKeyRange: { StartingHashKey: '0', EndingHashKey: HASH_MAX },
            SequenceNumberRange: {
              StartingSequenceNumber: String(s.start).padStart(56, '4'),
              ...(s.closed ? { EndingSequenceNumber: String(this.sequence).padStart(56, '4') } : {}),
            },
          })),
        };
      }
      case 'GetShardIterator': {
        const stream = this.streamName(body);
        const shard = this.shard(stream, body.ShardId);
        let position: number;
        switch (body.ShardIteratorType) {
          case 'TRIM_HORIZON':
            position = 0;
            break;
          case 'LATEST':
            position = shard.records.length;
            break;
          case 'AFTER_SEQUENCE_NUMBER':
          case 'AT_SEQUENCE_NUMBER': {
            const at = shard.records.findIndex((r) => r.SequenceNumber === body.StartingSequenceNumber);
            if (at < 0) {
              throw new ApiError('InvalidArgumentException', `StartingSequenceNumber ${body.StartingSequenceNumber} is not in ${shard.ShardId}`);
            }
            position = body.ShardIteratorType === 'AFTER_SEQUENCE_NUMBER' ? at + 1 : at;
            break;
          }
          default:
            throw new ApiError('InvalidArgumentException', `ShardIteratorType ${body.ShardIteratorType} is not supported by the fake`);
        }
        const token = `iterator-${this.iterators.size + 1}`;
        this.iterators.set(token, { stream, shardId: shard.ShardId, position });
        return { ShardIterator: token };
      }
      case 'GetRecords': {
        const iterator = this.iterators.get(body.ShardIterator);
        if (!iterator) {
          throw new ApiError('InvalidArgumentException', `unknown ShardIterator ${body.ShardIterator}`);
        }
        if (this.expireOnce && iterator.position > 0) {
          this.expireOnce = false;
          throw new ApiError('ExpiredIteratorException', `Iterator expired. The iterator was created at time ... while right now it is ...`);
        }
        const shard = this.shard(iterator.stream, iterator.shardId);
        const records = shard.records.slice(iterator.position, iterator.position + Math.min(this.recordsPerCall, body.Limit ?? 10000));
        const position = iterator.position + records.length;
        const end = shard.closed && position >= shard.records.length;
        let next: string | undefined;
        if (!end) {
          next = `iterator-${this.iterators.size + 1}`;
          this.iterators.set(next, { ...iterator, position });
        }
        return { Records: records, ...(next ? { NextShardIterator: next } : {}), MillisBehindLatest: 0 };
      }
      default:
        throw new ApiError('UnknownOperationException', `the fake does not implement ${operation}`);
    }
  }
}
