/**
 * SigV4-signed JSON POSTs for the two REST operations whose SDK clients are not dependencies of
 * this package: Kinesis Video Streams archived media's GetImages and Lambda's Invoke (the hand-over
 * to a successor). Signed with the SDK's signer and the credentials of the KinesisVideo client.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { kinesisVideo } from './clients';

/** An error answered by the service: `name` is the service's error type (as the SDK's errors). */
export class ServiceError extends Error {
  constructor(public readonly name: string, message: string, public readonly $metadata: { httpStatusCode: number }) {
    super(message);
  }
}

const signers = new Map<string, SignatureV4>();
async function signer(service: string): Promise<SignatureV4> {
  let s = signers.get(service);
  if (!s) {
    const region = await kinesisVideo.config.region();
    s = new SignatureV4({ service, region, credentials: kinesisVideo.config.credentials, sha256: Sha256 });
    signers.set(service, s);
  }
  return s;
}

export async function region(): Promise<string> {
  return kinesisVideo.config.region();
}

export interface SignedResponse {
  readonly status: number;
  readonly text: string;
  /** The service's clock (its Date header), epoch ms, if it sent one. */
  readonly serverTime?: number;
}

/** POSTs `body` to `endpoint` + `path`, signed for `service`; throws ServiceError for non-2xx answers. */
export async function signedPost(service: string, endpoint: URL, path: string, body: string, headers: Record<string, string> = {}): Promise<SignedResponse> {
  const fullPath = `${endpoint.pathname.replace(/\/$/, '')}${path}`;
  const signed = await (await signer(service)).sign({
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
  try {
    response = await fetch(`${endpoint.origin}${fullPath}`, { method: 'POST', headers: signed.headers as Record<string, string>, body });
  } catch (error) {
    const e = error as Error & { cause?: { code?: string } };
    throw Object.assign(new ServiceError('NetworkError', `${service} ${path}: ${e.message}`, { httpStatusCode: 0 }), { code: e.cause?.code ?? 'ECONNRESET' });
  }
  const text = await response.text();
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
