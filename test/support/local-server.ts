/**
 * A loopback HTTP server on a free port, for the service fakes: `handle` answers each request, and
 * `onError` answers a request whose handling threw. Every request is recorded (request-log.ts) for
 * the IAM check of the test that made it.
 */
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { recordRequest } from './request-log';

export class LocalServer {
  private server?: Server;

  constructor(
    private readonly handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
    private readonly onError: (res: ServerResponse, error: unknown) => void,
  ) {}

  /** Listens on 127.0.0.1 and answers with the server's URL. */
  public async start(): Promise<string> {
    this.server = createServer((req, res) => {
      recordRequest(req);
      this.handle(req, res).catch((error) => this.onError(res, error));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  public async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
