/**
 * A local stand-in for the Rekognition stream processor API, speaking its real wire protocol
 * (AWS JSON 1.1: POST /, `X-Amz-Target: RekognitionService.<Operation>`, JSON bodies, errors as
 * `{"__type": ..., "Message": ...}` with the `x-amzn-ErrorType` header) and keeping processor state,
 * so that the real AWS SDK v3 client can be pointed at it with `AWS_ENDPOINT_URL_REKOGNITION`.
 *
 * Status transitions advance on DescribeStreamProcessor calls (deterministic, no timers):
 * StartStreamProcessor moves STOPPED/FAILED to STARTING, and RUNNING (or FAILED, when a failure
 * is scripted) follows after `pollsToSettle` describes; StopStreamProcessor likewise via STOPPING.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

export type Status = 'STOPPED' | 'STARTING' | 'RUNNING' | 'FAILED' | 'STOPPING' | 'UPDATING';

export interface FakeProcessor {
  Name: string;
  StreamProcessorArn: string;
  Status: Status;
  StatusMessage?: string;
  Input: { KinesisVideoStream: { Arn: string } };
  Output: { KinesisDataStream: { Arn: string } };
  RoleArn: string;
  Settings: { FaceSearch: { CollectionId: string; FaceMatchThreshold?: number } };
  DataSharingPreference: { OptIn: boolean };
  Tags: Record<string, string>;
  CreationTimestamp: number;
  LastUpdateTimestamp: number;
  /** Describes left before a transitional status settles. */
  pending: number;
  /** Where the transitional status settles. */
  settlesTo?: Status;
}

export interface ScriptedFault {
  readonly operation: string;
  readonly type: string;
  readonly message: string;
  readonly status?: number;
  /** How many calls fail (default 1). */
  times?: number;
}

export interface RecordedCall {
  readonly operation: string;
  readonly body: Record<string, any>;
  readonly authorization: string;
}

const ACCOUNT = '123456789012';
const AUTH = /^AWS4-HMAC-SHA256 Credential=[A-Z0-9]+\/\d{8}\/([a-z0-9-]+)\/rekognition\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/;

class ApiError extends Error {
  constructor(public readonly type: string, message: string, public readonly status = 400) {
    super(message);
  }
}

export class FakeRekognition {
  public readonly processors = new Map<string, FakeProcessor>();
  public readonly calls: RecordedCall[] = [];
  /** Describes a transition takes to settle. */
  public pollsToSettle = 2;
  /** When set, a start settles in FAILED with this message instead of RUNNING. */
  public failStartWith?: string;
  /** When true, starts never settle (stuck in STARTING). */
  public stuckStarting = false;
  /** Stream processors allowed per account and Region (LimitExceededException beyond). */
  public quota = 10;
  private faults: ScriptedFault[] = [];
  private server?: Server;
  private region = 'us-east-1';

  public async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error) => {
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'InternalServerError', Message: String(error) }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  public async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  public reset(): void {
    this.processors.clear();
    this.calls.length = 0;
    this.faults = [];
    this.pollsToSettle = 2;
    this.failStartWith = undefined;
    this.stuckStarting = false;
    this.quota = 10;
  }

  /** The next `times` calls of `operation` fail with the given error. */
  public fail(fault: ScriptedFault): void {
    this.faults.push({ times: 1, ...fault });
  }

  public callsOf(operation: string): RecordedCall[] {
    return this.calls.filter((c) => c.operation === operation);
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
      if (req.method !== 'POST' || req.url !== '/' || !target.startsWith('RekognitionService.')) {
        throw new ApiError('UnknownOperationException', `expected POST / with X-Amz-Target RekognitionService.*, got ${req.method} ${req.url} ${target}`);
      }
      if (contentType !== 'application/x-amz-json-1.1') {
        throw new ApiError('SerializationException', `expected Content-Type application/x-amz-json-1.1, got ${contentType}`);
      }
      const auth = AUTH.exec(authorization);
      if (!auth || !req.headers['x-amz-date']) {
        throw new ApiError('IncompleteSignatureException', `request is not signed with SigV4 for rekognition: ${authorization}`, 403);
      }
      this.region = auth[1];
      const operation = target.slice('RekognitionService.'.length);
      const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      this.calls.push({ operation, body, authorization });
      const fault = this.faults.find((f) => f.operation === operation && (f.times ?? 1) > 0);
      if (fault) {
        fault.times = (fault.times ?? 1) - 1;
        throw new ApiError(fault.type, fault.message, fault.status ?? 400);
      }
      const result = this.dispatch(operation, body);
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `req-${this.calls.length}` });
      res.end(JSON.stringify(result));
    } catch (error) {
      const e = error instanceof ApiError ? error : new ApiError('InternalServerError', String(error), 500);
      res.writeHead(e.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': e.type, 'x-amzn-requestid': 'err' });
      res.end(JSON.stringify({ __type: e.type, Message: e.message }));
    }
  }

  private get(name: unknown): FakeProcessor {
    const p = this.processors.get(String(name));
    if (!p) {
      throw new ApiError('ResourceNotFoundException', `Stream processor ${String(name)} not found`);
    }
    return p;
  }

  private byArn(arn: unknown): FakeProcessor {
    const p = [...this.processors.values()].find((x) => x.StreamProcessorArn === arn);
    if (!p) {
      throw new ApiError('ResourceNotFoundException', `Resource ${String(arn)} not found`);
    }
    return p;
  }

  private transition(p: FakeProcessor, via: Status, to: Status | undefined): void {
    p.Status = via;
    p.settlesTo = to;
    p.pending = this.pollsToSettle;
    p.LastUpdateTimestamp = Date.now() / 1000;
  }

  private dispatch(operation: string, body: Record<string, any>): unknown {
    switch (operation) {
      case 'CreateStreamProcessor': {
        for (const field of ['Name', 'Input', 'Output', 'RoleArn', 'Settings']) {
          if (body[field] === undefined) {
            throw new ApiError('InvalidParameterException', `${field} is required`);
          }
        }
        if (!/^[a-zA-Z0-9_.\-]{1,128}$/.test(body.Name)) {
          throw new ApiError('InvalidParameterException', `Name ${body.Name} does not satisfy [a-zA-Z0-9_.\\-]{1,128}`);
        }
        if (!body.Settings.FaceSearch?.CollectionId) {
          throw new ApiError('InvalidParameterException', 'Settings.FaceSearch.CollectionId is required');
        }
        if (this.processors.has(body.Name)) {
          throw new ApiError('ResourceInUseException', `Stream processor ${body.Name} already exists`);
        }
        if (this.processors.size >= this.quota) {
          throw new ApiError('LimitExceededException', 'An Amazon Rekognition service limit was exceeded: stream processors');
        }
        const now = Date.now() / 1000;
        const p: FakeProcessor = {
          Name: body.Name,
          StreamProcessorArn: `arn:aws:rekognition:${this.region}:${ACCOUNT}:streamprocessor/${body.Name}`,
          Status: 'STOPPED',
          Input: body.Input,
          Output: body.Output,
          RoleArn: body.RoleArn,
          Settings: body.Settings,
          DataSharingPreference: body.DataSharingPreference ?? { OptIn: false },
          Tags: body.Tags ?? {},
          CreationTimestamp: now,
          LastUpdateTimestamp: now,
          pending: 0,
        };
        this.processors.set(p.Name, p);
        return { StreamProcessorArn: p.StreamProcessorArn };
      }
      case 'DescribeStreamProcessor': {
        const p = this.get(body.Name);
        if (p.settlesTo && !(p.Status === 'STARTING' && this.stuckStarting)) {
          p.pending -= 1;
          if (p.pending <= 0) {
            p.Status = p.settlesTo;
            p.settlesTo = undefined;
            p.LastUpdateTimestamp = Date.now() / 1000;
          }
        }
        const { pending: _pending, settlesTo: _settlesTo, Tags: _tags, ...visible } = p;
        return visible;
      }
      case 'StartStreamProcessor': {
        const p = this.get(body.Name);
        if (p.Status !== 'STOPPED' && p.Status !== 'FAILED') {
          throw new ApiError('ResourceInUseException', `Stream processor ${p.Name} is ${p.Status}`);
        }
        p.StatusMessage = undefined;
        if (this.failStartWith) {
          this.transition(p, 'STARTING', 'FAILED');
          p.StatusMessage = this.failStartWith;
        } else {
          this.transition(p, 'STARTING', 'RUNNING');
        }
        return { SessionId: `session-${p.Name}` };
      }
      case 'StopStreamProcessor': {
        const p = this.get(body.Name);
        if (p.Status !== 'RUNNING') {
          throw new ApiError('ResourceInUseException', `Stream processor ${p.Name} is ${p.Status}, not RUNNING`);
        }
        this.transition(p, 'STOPPING', 'STOPPED');
        return {};
      }
      case 'DeleteStreamProcessor': {
        const p = this.get(body.Name);
        if (p.Status !== 'STOPPED' && p.Status !== 'FAILED') {
          throw new ApiError('ResourceInUseException', `Stream processor ${p.Name} is ${p.Status}; stop it first`);
        }
        this.processors.delete(p.Name);
        return {};
      }
      case 'UpdateStreamProcessor': {
        const p = this.get(body.Name);
        if (p.Status === 'STARTING' || p.Status === 'STOPPING' || p.Status === 'UPDATING') {
          throw new ApiError('ResourceInUseException', `Stream processor ${p.Name} is ${p.Status}`);
        }
        if (body.DataSharingPreferenceForUpdate) {
          p.DataSharingPreference = body.DataSharingPreferenceForUpdate;
        }
        this.transition(p, 'UPDATING', p.Status);
        return {};
      }
      case 'TagResource': {
        const p = this.byArn(body.ResourceArn);
        Object.assign(p.Tags, body.Tags);
        return {};
      }
      case 'UntagResource': {
        const p = this.byArn(body.ResourceArn);
        for (const key of body.TagKeys ?? []) {
          delete p.Tags[key];
        }
        return {};
      }
      case 'ListTagsForResource':
        return { Tags: this.byArn(body.ResourceArn).Tags };
      default:
        throw new ApiError('UnknownOperationException', `operation ${operation} is not implemented by the fake`);
    }
  }
}
