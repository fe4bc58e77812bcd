/**
 * SigV4-signed JSON POSTs for the REST operations whose SDK clients are not dependencies of this
 * package: Kinesis Video Streams archived media's GetImages (kvs-images.ts, for the frame sampler
 * and the consumer's snapshots) and Lambda's Invoke (the frame sampler's hand-over to a
 * successor). Signed with the SDK's signer and the region and credentials of an SDK client the
 * handler already has (its KinesisVideo client), so that they resolve as the SDK's own calls do.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, Provider } from '@smithy/types';

/** An error answered by the service: `name` is the service's error type (as the SDK's errors). */
export class ServiceError extends Error {
  constructor(public readonly name: string, message: string, public readonly $metadata: { httpStatusCode: number }) {
    super(message);
  }
}

/** What is read of an SDK v3 client: its resolved region and credentials. */
export interface SigningClient {
  readonly config: {
    region(): Promise<string>;
    credentials: AwsCredentialIdentity | Provider<AwsCredentialIdentity>;
  };
}

export interface SignedResponse {
  readonly status: number;
  readonly text: string;
  /** The service's clock (its Date header), epoch ms, if it sent one. */
  readonly serverTime?: number;
}

export interface SignedPostOptions {
  /** Aborts the request (e.g. `AbortSignal.timeout(ms)`): it then fails as a NetworkError. */
  readonly signal?: AbortSignal;
}

/** Signed POSTs with the region and credentials of `client`. */
export class SignedPoster {
  private readonly signers = new Map<string, SignatureV4>();

  constructor(private readonly client: SigningClient) {}

  public region(): Promise<string> {
    return this.client.config.region();
  }

  /** POSTs `body` to `endpoint` + `path`, signed for `service`; throws ServiceError for non-2xx answers. */
  public async post(service: string, endpoint: URL, path: string, body: string, headers: Record<string, string> = {}, options: SignedPostOptions = {}): Promise<SignedResponse> {
    const fullPath = `${endpoint.pathname.replace(/\/$/, '')}${path}`;
    const signed = await (await this.signer(service)).sign({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: endpoint.port ? Number(endpoint.port) : undefined,
      path: fullPath,
      query: {},
      headers: { 'content-type': 'application/json', host: endpoint.host, ...headers },
      body,
    });
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${endpoint.origin}${fullPath}`, { method: 'POST', headers: signed.headers as Record<string, string>, body, signal: options.signal });
      text = await response.text();
    } catch (error) {
      const e = error as Error & { cause?: { code?: string } };
      const code = e.name === 'TimeoutError' || e.name === 'AbortError' ? 'ETIMEDOUT' : (e.cause?.code ?? 'ECONNRESET');
      throw Object.assign(new ServiceError('NetworkError', `${service} ${path}: ${e.message}`, { httpStatusCode: 0 }), { code });
    }
    const date = Date.parse(response.headers.get('date') ?? '');
    if (response.status < 200 || response.status > 299) {
      let type = response.headers.get('x-amzn-errortype') ?? '';
      let message = text;
      try {
        const parsed = JSON.parse(text) as { __type?: string; Type?: string; message?: string; Message?: string };
        type = type || parsed.__type || '';
        message = parsed.message ?? parsed.Message ?? text;
      } catch {
        // not JSON: keep the text
      }
      throw new ServiceError(type.split(':')[0].split('#').pop() || `Http${response.status}`, `${service} ${path}: ${message}`, { httpStatusCode: response.status });
    }
    return { status: response.status, text, serverTime: Number.isFinite(date) ? date : undefined };
  }

  private async signer(service: string): Promise<SignatureV4> {
    let s = this.signers.get(service);
    if (!s) {
      const region = await this.client.config.region();
      s = new SignatureV4({ service, region, credentials: this.client.config.credentials, sha256: Sha256 });
      this.signers.set(service, s);
    }
    return s;
  }
}
