/**
 * moto in server mode (PyPI `moto[server]`, pinned in requirements-checks.txt, in .venv-checks): an
 * AWS emulator written by others, speaking the wire protocols of DynamoDB, Kinesis, SQS, S3 and
 * EventBridge, among others, on one endpoint. The handler tests run their main behaviours against it
 * as well as against the project's own fakes, so that a misreading of AWS shared by a handler and
 * the fake written beside it shows. One server per test file, on 127.0.0.1 and a port the system
 * picks (port 0), stopped in afterAll; `reset()` empties every service between tests. The server
 * serves one request at a time (./moto-server.py): moto's threaded server breaks the atomicity of
 * DynamoDB's conditional writes.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import * as path from 'node:path';
import { checksBin } from './tools';

/** The timeout of a test (and its hooks) that uses moto: a ceiling, far above what it needs, so that a hung server fails the test. */
export const MOTO_TIMEOUT = 120_000;

/** The moto account every resource lives in (moto's default). */
export const MOTO_ACCOUNT = '123456789012';

export class MotoServer {
  private child?: ChildProcess;
  private output = '';
  public url = '';

  /** Starts moto_server on 127.0.0.1, port 0; resolves with its URL once it listens. */
  public async start(): Promise<string> {
    const python = checksBin('python');
    if (!existsSync(checksBin('moto_server'))) {
      throw new Error(`${checksBin('moto_server')} is missing: run "npm run setup" (npm test does) first`);
    }
    // moto's server, serving one request at a time (see moto-server.py: conditional writes stay atomic)
    const child = spawn(python, [path.join(__dirname, 'moto-server.py'), '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    this.child = child;
    this.url = await new Promise<string>((resolve, reject) => {
      const seen = (chunk: Buffer) => {
        this.output = (this.output + chunk.toString('utf8')).slice(-20_000);
        const m = /Running on (http:\/\/127\.0\.0\.1:\d+)/.exec(this.output);
        if (m) {
          resolve(m[1]);
        }
      };
      child.stdout!.on('data', seen);
      child.stderr!.on('data', seen);
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`moto_server exited (${code ?? signal}) before it listened:\n${this.output}`)));
    });
    return this.url;
  }

  /** Empties every service (POST /moto-api/reset). */
  public reset(): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = request(`${this.url}/moto-api/reset`, { method: 'POST' }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`moto reset: HTTP ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end();
    });
  }

  /** Stops the server and waits for its process to end. */
  public async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  }
}
