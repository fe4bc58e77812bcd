/**
 * A local HTTP server speaking the AWS JSON protocols (awsJson1_0 / awsJson1_1): POST / with
 * `X-Amz-Target: <Prefix>.<Operation>`, a JSON body, and errors as `{"__type", "message"}` with the
 * `x-amzn-ErrorType` header, checking that each request is SigV4-signed for the right service.
 * The service fakes in this folder extend it with their operations and state.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { LocalServer } from './local-server';

export class ApiError extends Error {
  constructor(public readonly type: string, message: string, public readonly status = 400) {
    super(message);
  }
}

export interface RecordedCall {
  readonly operation: string;
  readonly body: Record<string, any>;
  readonly authorization: string;
}

export interface ScriptedFault {
  readonly operation: string;
  readonly type: string;
  readonly message: string;
  readonly status?: number;
  /** How many calls fail (default 1). */
  times?: number;
}

export abstract class AwsJsonServer {
  public readonly calls: RecordedCall[] = [];
  /** The Region of the last signed request. */
  protected region = 'us-east-1';
  private faults: ScriptedFault[] = [];
  private readonly server = new LocalServer((req, res) => this.handle(req, res), (res, error) => this.reply(res, 500, { __type: 'InternalServerError', message: String(error) }, 'InternalServerError'));
  private readonly auth: RegExp;

  constructor(private readonly targetPrefix: string, private readonly contentType: string, signingName: string) {
    this.auth = new RegExp(
      `^AWS4-HMAC-SHA256 Credential=[A-Z0-9]+/\\d{8}/([a-z0-9-]+)/${signingName}/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$`,
    );
  }

  public start(): Promise<string> {
    return this.server.start();
  }

  public stop(): Promise<void> {
    return this.server.stop();
  }

  /** Clears calls and scripted faults; subclasses clear their state too. */
  public reset(): void {
    this.calls.length = 0;
    this.faults = [];
  }

  /** The next `times` calls of `operation` fail with the given error. */
  public fail(fault: ScriptedFault): void {
    this.faults.push({ times: 1, ...fault });
  }

  public callsOf(operation: string): RecordedCall[] {
    return this.calls.filter((c) => c.operation === operation);
  }

  protected abstract dispatch(operation: string, body: Record<string, any>): unknown;

  private reply(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
    const headers: Record<string, string> = { 'content-type': this.contentType, 'x-amzn-requestid': `req-${this.calls.length}` };
    if (errorType) {
      headers['x-amzn-errortype'] = errorType;
    }
    res.writeHead(status, headers);
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    const contentType = String(req.headers['content-type'] ?? '');
    const authorization = String(req.headers.authorization ?? '');
    try {
      if (req.method !== 'POST' || req.url !== '/' || !target.startsWith(`${this.targetPrefix}.`)) {
        throw new ApiError('UnknownOperationException', `expected POST / with X-Amz-Target ${this.targetPrefix}.*, got ${req.method} ${req.url} ${target}`);
      }
      if (contentType !== this.contentType) {
        throw new ApiError('SerializationException', `expected Content-Type ${this.contentType}, got ${contentType}`);
      }
      const auth = this.auth.exec(authorization);
      if (!auth || !req.headers['x-amz-date']) {
        throw new ApiError('IncompleteSignatureException', `request is not SigV4-signed for this service: ${authorization}`, 403);
      }
      this.region = auth[1];
      const operation = target.slice(this.targetPrefix.length + 1);
      const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      this.calls.push({ operation, body, authorization });
      const fault = this.faults.find((f) => f.operation === operation && (f.times ?? 1) > 0);
      if (fault) {
        fault.times = (fault.times ?? 1) - 1;
        throw new ApiError(fault.type, fault.message, fault.status ?? 400);
      }
      // a fake may answer asynchronously (e.g. reading another service first)
      this.reply(res, 200, await this.dispatch(operation, body));
    } catch (error) {
      const e = error instanceof ApiError ? error : new ApiError('InternalServerError', String(error), 500);
      this.reply(res, e.status, { __type: e.type, message: e.message }, e.type);
    }
  }
}
