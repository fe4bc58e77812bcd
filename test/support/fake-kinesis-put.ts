/**
 * A local Kinesis Data Streams endpoint for PutRecords and PutRecord (AWS JSON 1.1,
 * `Kinesis_20131202.*`, the protocol of the installed @aws-sdk/client-kinesis), with the service's
 * limits (500 entries and 5 MiB per call, 1 MiB per record, partition keys of 1-256 characters) and
 * scripted partial failures: the next `failEntries` entries answer ProvisionedThroughputExceededException.
 */
import { ApiError, AwsJsonServer } from './aws-json-server';

export interface StoredRecord {
  readonly streamArn: string;
  readonly partitionKey: string;
  readonly data: Buffer;
}

export class FakeKinesisPut extends AwsJsonServer {
  public readonly streams = new Set<string>();
  public readonly records: StoredRecord[] = [];
  public failEntries = 0;
  public failedEntries = 0;
  private sequence = 0n;

  constructor() {
    super('Kinesis_20131202', 'application/x-amz-json-1.1', 'kinesis');
  }

  public reset(): void {
    super.reset();
    this.records.length = 0;
    this.failEntries = 0;
    this.failedEntries = 0;
  }

  /** The records of a stream, parsed. */
  public json(streamArn?: string): any[] {
    return this.records.filter((r) => !streamArn || r.streamArn === streamArn).map((r) => JSON.parse(r.data.toString('utf8')));
  }

  private stream(body: Record<string, any>): string {
    const arn = body.StreamARN ?? [...this.streams].find((s) => s.endsWith(`/${body.StreamName}`));
    if (!arn || !this.streams.has(arn)) {
      throw new ApiError('ResourceNotFoundException', `Stream ${body.StreamARN ?? body.StreamName} under account 123456789012 not found.`);
    }
    return arn;
  }

  private entry(arn: string, e: Record<string, any>): Record<string, string> {
    const data = Buffer.from(String(e.Data ?? ''), 'base64');
    if (data.length > 1024 * 1024) {
      throw new ApiError('ValidationException', '1 validation error detected: Value at \'records.member.data\' failed to satisfy constraint: Member must have length less than or equal to 1048576');
    }
    if (typeof e.PartitionKey !== 'string' || e.PartitionKey.length < 1 || e.PartitionKey.length > 256) {
      throw new ApiError('ValidationException', 'PartitionKey must be 1-256 characters');
    }
    if (this.failEntries > 0) {
      this.failEntries--;
      this.failedEntries++;
      return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard shardId-000000000000 in stream.' };
    }
    this.records.push({ streamArn: arn, partitionKey: e.PartitionKey, data });
    this.sequence++;
    return { SequenceNumber: String(49590338271490256608559692538361571095921575989136588898n + this.sequence), ShardId: 'shardId-000000000000' };
  }

  protected dispatch(operation: string, body: Record<string, any>): unknown {
    switch (operation) {
      case 'PutRecords': {
        const arn = this.stream(body);
        const entries = body.Records ?? [];
        if (!Array.isArray(entries) || entries.length < 1 || entries.length > 500) {
          throw new ApiError('ValidationException', `Records must have 1-500 entries, got ${entries.length}`);
        }
        const bytes = entries.reduce((n: number, e: any) => n + Buffer.from(String(e.Data ?? ''), 'base64').length + String(e.PartitionKey ?? '').length, 0);
        if (bytes > 5 * 1024 * 1024) {
          throw new ApiError('InvalidArgumentException', `Records size ${bytes} exceeds the limit of 5 MiB per request`);
        }
        const out = entries.map((e: any) => this.entry(arn, e));
        return { FailedRecordCount: out.filter((r: Record<string, string>) => r.ErrorCode).length, Records: out };
      }
      case 'PutRecord': {
        const out = this.entry(this.stream(body), body);
        if (out.ErrorCode) {
          throw new ApiError(out.ErrorCode, out.ErrorMessage);
        }
        return out;
      }
      default:
        throw new ApiError('UnknownOperationException', `operation ${operation} is not implemented by the fake`);
    }
  }
}
