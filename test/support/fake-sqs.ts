/**
 * A local SQS endpoint for SendMessage / SendMessageBatch (AWS JSON 1.0, `AmazonSQS.*`), with the
 * MD5 digests the SDK verifies, the service's batch and size limits, and scriptable failures.
 */
import { createHash } from 'node:crypto';
import { ApiError, AwsJsonServer } from './aws-json-server';

export interface QueuedMessage {
  readonly QueueUrl: string;
  readonly Body: string;
}

export class FakeSqs extends AwsJsonServer {
  public readonly messages: QueuedMessage[] = [];
  /** How many of the next batch entries fail (as service-side failures). */
  public rejectEntries = 0;
  private nextId = 1;

  constructor() {
    super('AmazonSQS', 'application/x-amz-json-1.0', 'sqs');
  }

  public reset(): void {
    super.reset();
    this.messages.length = 0;
    this.rejectEntries = 0;
  }

  /** Message bodies parsed as JSON. */
  public bodies(): any[] {
    return this.messages.map((m) => JSON.parse(m.Body));
  }

  private accept(queueUrl: string, body: unknown): { MessageId: string; MD5OfMessageBody: string } {
    if (typeof body !== 'string' || body.length === 0) {
      throw new ApiError('InvalidParameterValue', 'MessageBody is required');
    }
    if (Buffer.byteLength(body) > 256 * 1024) {
      throw new ApiError('InvalidParameterValue', 'One or more parameters are invalid. Reason: Message must be shorter than 262144 bytes.');
    }
    this.messages.push({ QueueUrl: queueUrl, Body: body });
    return { MessageId: `msg-${this.nextId++}`, MD5OfMessageBody: createHash('md5').update(body).digest('hex') };
  }

  protected dispatch(operation: string, body: Record<string, any>): unknown {
    if (!body.QueueUrl) {
      throw new ApiError('InvalidAddress', 'QueueUrl is required');
    }
    if (operation === 'SendMessage') {
      return this.accept(body.QueueUrl, body.MessageBody);
    }
    if (operation === 'SendMessageBatch') {
      const entries: any[] = body.Entries ?? [];
      if (entries.length < 1 || entries.length > 10) {
        throw new ApiError('AWS.SimpleQueueService.TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10 (got ${entries.length})`);
      }
      const total = entries.reduce((n, e) => n + Buffer.byteLength(e.MessageBody ?? ''), 0);
      if (total > 256 * 1024) {
        throw new ApiError('AWS.SimpleQueueService.BatchRequestTooLong', `Batch requests cannot be longer than 262144 bytes (got ${total})`);
      }
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      for (const e of entries) {
        if (this.rejectEntries > 0) {
          this.rejectEntries -= 1;
          Failed.push({ Id: e.Id, SenderFault: false, Code: 'InternalError', Message: 'scripted failure' });
          continue;
        }
        Successful.push({ Id: e.Id, ...this.accept(body.QueueUrl, e.MessageBody) });
      }
      return { Successful, Failed };
    }
    throw new ApiError('UnknownOperationException', `operation ${operation} is not implemented by the fake`);
  }
}
