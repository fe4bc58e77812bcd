/**
 * A local SQS endpoint for SendMessage / SendMessageBatch (AWS JSON 1.0, `AmazonSQS.*`), with the
 * MD5 digests the SDK verifies and the service's rules:
 *  - a message body of at most the queue's MaximumMessageSize bytes (SendMessage: InvalidParameterValue);
 *  - a SendMessageBatch of 1-10 entries (EmptyBatchRequest, TooManyEntriesInBatchRequest) whose
 *    bodies total at most MaximumMessageSize (BatchRequestTooLong for the whole call, one entry
 *    too large included);
 *  - only #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF in a body
 *    (InvalidMessageContents: the call for SendMessage, the entry, as the sender's fault, in a batch);
 * and scriptable failures.
 */
import { createHash } from 'node:crypto';
import { ApiError, AwsJsonServer } from './aws-json-server';

export interface QueuedMessage {
  readonly QueueUrl: string;
  readonly Body: string;
}

/** SQS's largest MaximumMessageSize (and the default of a new queue): 1 MiB. */
export const SQS_MAX_MESSAGE_SIZE = 1024 * 1024;

/** A character SQS does not take in a message body. */
const REFUSED = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export class FakeSqs extends AwsJsonServer {
  public readonly messages: QueuedMessage[] = [];
  /** How many of the next batch entries fail (as service-side failures). */
  public rejectEntries = 0;
  /** The queue's MaximumMessageSize attribute (1024 - 1048576). */
  public maximumMessageSize = SQS_MAX_MESSAGE_SIZE;
  private nextId = 1;

  constructor() {
    super('AmazonSQS', 'application/x-amz-json-1.0', 'sqs');
  }

  public reset(): void {
    super.reset();
    this.messages.length = 0;
    this.rejectEntries = 0;
    this.maximumMessageSize = SQS_MAX_MESSAGE_SIZE;
  }

  /** Message bodies parsed as JSON. */
  public bodies(): any[] {
    return this.messages.map((m) => JSON.parse(m.Body));
  }

  private validBody(body: unknown): string {
    if (typeof body !== 'string' || body.length === 0) {
      throw new ApiError('InvalidParameterValue', 'MessageBody is required');
    }
    return body;
  }

  private accept(queueUrl: string, body: string): { MessageId: string; MD5OfMessageBody: string } {
    this.messages.push({ QueueUrl: queueUrl, Body: body });
    return { MessageId: `msg-${this.nextId++}`, MD5OfMessageBody: createHash('md5').update(body).digest('hex') };
  }

  protected dispatch(operation: string, body: Record<string, any>): unknown {
    if (!body.QueueUrl) {
      throw new ApiError('InvalidAddress', 'QueueUrl is required');
    }
    const max = this.maximumMessageSize;
    if (operation === 'SendMessage') {
      const text = this.validBody(body.MessageBody);
      if (Buffer.byteLength(text) > max) {
        throw new ApiError('InvalidParameterValue', `One or more parameters are invalid. Reason: Message must be shorter than ${max} bytes.`);
      }
      if (REFUSED.test(text)) {
        throw new ApiError('InvalidMessageContents', 'Invalid binary character in the message body');
      }
      return this.accept(body.QueueUrl, text);
    }
    if (operation === 'SendMessageBatch') {
      const entries: any[] = body.Entries ?? [];
      if (entries.length === 0) {
        throw new ApiError('EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.');
      }
      if (entries.length > 10) {
        throw new ApiError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${entries.length}.`);
      }
      const total = entries.reduce((sum, e) => sum + Buffer.byteLength(this.validBody(e.MessageBody)), 0);
      if (total > max) {
        throw new ApiError('BatchRequestTooLong', `Batch requests cannot be longer than ${max} bytes. You have sent ${total} bytes.`);
      }
      const Successful: unknown[] = [];
      const Failed: unknown[] = [];
      for (const e of entries) {
        if (REFUSED.test(e.MessageBody)) {
          Failed.push({ Id: e.Id, SenderFault: true, Code: 'InvalidMessageContents', Message: 'Invalid binary character in the message body' });
          continue;
        }
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
