/**
 * A local Lambda endpoint for Invoke (REST-JSON `POST /2015-03-31/functions/<name>/invocations`),
 * SigV4-checked for `lambda`, as the frame sampler's hand-over calls it: InvocationType `Event`
 * answers 202 and hands the payload to `onInvoke` (the test decides what runs); scripted failures
 * (`fail`) answer TooManyRequestsException (429) as a throttled function does.
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { LocalServer } from './local-server';

const AUTH = /^AWS4-HMAC-SHA256 Credential=[A-Z0-9]+\/\d{8}\/([a-z0-9-]+)\/lambda\/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$/;

export class FakeLambda {
  public readonly invocations: Array<{ functionName: string; invocationType: string; payload: any }> = [];
  public onInvoke?: (functionName: string, payload: any) => void;
  private failures = 0;
  private readonly server = new LocalServer((req, res) => this.handle(req, res), (res, error) => this.reply(res, 500, 'ServiceException', String(error)));

  public start(): Promise<string> {
    return this.server.start();
  }

  public stop(): Promise<void> {
    return this.server.stop();
  }

  public reset(): void {
    this.invocations.length = 0;
    this.onInvoke = undefined;
    this.failures = 0;
  }

  /** The next `times` invocations answer TooManyRequestsException. */
  public fail(times: number): void {
    this.failures = times;
  }

  private reply(res: ServerResponse, status: number, type?: string, message?: string): void {
    res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': `req-${this.invocations.length}`, ...(type ? { 'x-amzn-errortype': type } : {}) });
    res.end(type ? JSON.stringify({ Type: 'User', message }) : '');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(String(req.url));
    if (req.method !== 'POST' || !match) {
      this.reply(res, 404, 'UnknownOperationException', `${req.method} ${req.url}`);
      return;
    }
    if (!AUTH.test(String(req.headers.authorization ?? '')) || !req.headers['x-amz-date']) {
      this.reply(res, 403, 'UnrecognizedClientException', 'request is not SigV4-signed for lambda');
      return;
    }
    const invocationType = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (invocationType !== 'Event') {
      this.reply(res, 400, 'InvalidParameterValueException', `the fake answers InvocationType Event only, got ${invocationType}`);
      return;
    }
    if (this.failures > 0) {
      this.failures--;
      this.reply(res, 429, 'TooManyRequestsException', 'Rate Exceeded.');
      return;
    }
    const functionName = decodeURIComponent(match[1]);
    const payload = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    this.invocations.push({ functionName, invocationType, payload });
    this.reply(res, 202);
    this.onInvoke?.(functionName, payload);
  }
}
