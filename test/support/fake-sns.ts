/**
 * A local SNS endpoint for Publish, speaking the query protocol as the SDK sends it (POST / with a
 * form-urlencoded body: Action=Publish&Version=2010-03-31&TopicArn=...; XML answers), SigV4-checked
 * for the sns service, with the service's rules for what the notifier sends:
 *  - the topic must exist (404 NotFound);
 *  - Subject: ASCII text that begins with a letter, number or punctuation, no line breaks or
 *    control characters, under 100 characters (400 InvalidParameter);
 *  - MessageStructure=json: Message is a JSON object with a string "default" (400 InvalidParameter);
 *  - Message at most 256 KiB; at most 10 message attributes, each with a DataType and a value;
 * and scriptable failures. Each topic's subscribers (`subscribe(topic, protocol)`) get the message as
 * SNS delivers it to them: an e-mail subscriber the subject and the "email" part (else "default"),
 * an SMS subscriber the "sms" part (else "default").
 */
import { randomUUID } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { LocalServer } from './local-server';

export interface Published {
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  readonly messageStructure?: string;
  readonly attributes: Record<string, { DataType: string; StringValue?: string }>;
}

export interface Delivery {
  readonly topicArn: string;
  readonly protocol: string;
  readonly subject?: string;
  readonly text: string;
}

const MAX_MESSAGE_BYTES = 256 * 1024;

export class FakeSns {
  public readonly published: Published[] = [];
  public readonly deliveries: Delivery[] = [];
  private readonly topics = new Map<string, string[]>();
  private faults: Array<{ code: string; status: number; times: number }> = [];
  private readonly server = new LocalServer((req, res) => this.handle(req, res), (res, error) => this.error(res, 500, 'InternalError', String(error)));

  public start(): Promise<string> {
    return this.server.start();
  }

  public stop(): Promise<void> {
    return this.server.stop();
  }

  public reset(): void {
    this.published.length = 0;
    this.deliveries.length = 0;
    this.topics.clear();
    this.faults = [];
  }

  public createTopic(topicArn: string): void {
    this.topics.set(topicArn, this.topics.get(topicArn) ?? []);
  }

  /** A subscriber of `protocol` ('email', 'sms', 'sqs', ...) on the topic. */
  public subscribe(topicArn: string, protocol: string): void {
    this.createTopic(topicArn);
    this.topics.get(topicArn)!.push(protocol);
  }

  /** The next `times` Publish calls fail with `code` (e.g. 'InternalError', 500, or 'AuthorizationError', 403). */
  public fail(code: string, status: number, times = 1): void {
    this.faults.push({ code, status, times });
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { 'content-type': 'text/xml' });
    res.end(
      `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
    );
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (!/^AWS4-HMAC-SHA256 Credential=[A-Z0-9]+\/\d{8}\/[a-z0-9-]+\/sns\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/.test(String(req.headers.authorization ?? ''))) {
      return this.error(res, 403, 'InvalidClientTokenId', 'request is not SigV4-signed for sns');
    }
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    if (form.get('Action') !== 'Publish') {
      return this.error(res, 400, 'InvalidAction', `only Publish is implemented by the fake, got ${form.get('Action')}`);
    }
    const fault = this.faults.find((f) => f.times > 0);
    if (fault) {
      fault.times -= 1;
      return this.error(res, fault.status, fault.code, `scripted ${fault.code}`);
    }
    const topicArn = form.get('TopicArn') ?? '';
    const subscribers = this.topics.get(topicArn);
    if (!subscribers) {
      return this.error(res, 404, 'NotFound', 'Topic does not exist');
    }
    const subject = form.get('Subject') ?? undefined;
    if (subject !== undefined && (subject.length === 0 || subject.length >= 100 || !/^[\x21-\x7e][\x20-\x7e]*$/.test(subject))) {
      return this.error(res, 400, 'InvalidParameter', 'Invalid parameter: Subject');
    }
    const message = form.get('Message') ?? '';
    if (!message || Buffer.byteLength(message) > MAX_MESSAGE_BYTES) {
      return this.error(res, 400, 'InvalidParameter', 'Invalid parameter: Message too long or empty');
    }
    const structure = form.get('MessageStructure') ?? undefined;
    let parts: Record<string, unknown> = { default: message };
    if (structure === 'json') {
      try {
        parts = JSON.parse(message);
      } catch {
        return this.error(res, 400, 'InvalidParameter', 'Invalid parameter: Message Structure - JSON message body failed to parse');
      }
      if (typeof parts !== 'object' || parts === null || typeof parts.default !== 'string') {
        return this.error(res, 400, 'InvalidParameter', 'Invalid parameter: Message Structure - No default entry in JSON message body');
      }
    } else if (structure !== undefined) {
      return this.error(res, 400, 'InvalidParameter', 'Invalid parameter: MessageStructure');
    }
    const attributes: Published['attributes'] = {};
    for (let i = 1; form.has(`MessageAttributes.entry.${i}.Name`); i++) {
      const name = form.get(`MessageAttributes.entry.${i}.Name`)!;
      const dataType = form.get(`MessageAttributes.entry.${i}.Value.DataType`);
      const value = form.get(`MessageAttributes.entry.${i}.Value.StringValue`) ?? undefined;
      if (!dataType || !value) {
        return this.error(res, 400, 'ParameterValueInvalid', `The message attribute '${name}' must contain non-empty message attribute value.`);
      }
      attributes[name] = { DataType: dataType, StringValue: value };
    }
    if (Object.keys(attributes).length > 10) {
      return this.error(res, 400, 'InvalidParameter', 'Number of message attributes exceeds 10');
    }
    this.published.push({ topicArn, subject, message, messageStructure: structure, attributes });
    for (const protocol of subscribers) {
      const text = typeof parts[protocol] === 'string' ? (parts[protocol] as string) : (parts.default as string);
      this.deliveries.push({ topicArn, protocol, subject: protocol === 'email' ? subject : undefined, text });
    }
    const messageId = randomUUID();
    res.writeHead(200, { 'content-type': 'text/xml' });
    res.end(
      `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
    );
  }
}

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
