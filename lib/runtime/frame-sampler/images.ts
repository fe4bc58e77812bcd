/**
 * Kinesis Video Streams GetImages (archived media, REST-JSON `POST /getImages`) on the endpoint that
 * GetDataEndpoint(GET_IMAGES) names, cached per stream (GetDataEndpoint allows 5 calls per second
 * per stream). The archived-media SDK client is not a dependency of this package, so the request
 * is signed here with the SDK's SigV4 signer and the credentials of the KinesisVideo client.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { GetDataEndpointCommand } from '@aws-sdk/client-kinesis-video';
import { SignatureV4 } from '@smithy/signature-v4';
import { kinesisVideo } from './clients';

export interface KvsImage {
  /** Epoch milliseconds (producer timestamp). */
  readonly timeMs: number;
  /** JPEG bytes, or undefined with `error`. */
  readonly jpeg?: Buffer;
  /** NO_MEDIA or MEDIA_ERROR */
  readonly error?: string;
}

/** An error answered by Kinesis Video Streams: `name` is the service's error type. */
export class KvsError extends Error {
  constructor(public readonly name: string, message: string, public readonly $metadata: { httpStatusCode: number }) {
    super(message);
  }
}

const ENDPOINT_TTL_MS = 10 * 60_000;
const endpoints = new Map<string, { url: string; until: number }>();

export async function imagesEndpoint(streamArn: string): Promise<string> {
  const cached = endpoints.get(streamArn);
  if (cached && cached.until > Date.now()) {
    return cached.url;
  }
  const { DataEndpoint } = await kinesisVideo.send(new GetDataEndpointCommand({ StreamARN: streamArn, APIName: 'GET_IMAGES' }));
  if (!DataEndpoint) {
    throw new KvsError('InvalidResponse', `GetDataEndpoint answered no DataEndpoint for ${streamArn}`, { httpStatusCode: 200 });
  }
  endpoints.set(streamArn, { url: DataEndpoint, until: Date.now() + ENDPOINT_TTL_MS });
  return DataEndpoint;
}

/** Forget a cached endpoint (after a network error on it). */
export function forgetEndpoint(streamArn: string): void {
  endpoints.delete(streamArn);
}

export interface ImagesRequest {
  readonly streamArn: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly samplingIntervalMs: number;
  readonly widthPixels?: number;
  readonly nextToken?: string;
  readonly maxResults: number;
}

let signer: SignatureV4 | undefined;
async function getSigner(): Promise<SignatureV4> {
  if (!signer) {
    const region = await kinesisVideo.config.region();
    signer = new SignatureV4({ service: 'kinesisvideo', region, credentials: kinesisVideo.config.credentials, sha256: Sha256 });
  }
  return signer;
}

/** One page of GetImages (JPEG, quality 90, producer timestamps). */
export async function getImages(request: ImagesRequest): Promise<{ images: KvsImage[]; nextToken?: string }> {
  const endpoint = new URL(await imagesEndpoint(request.streamArn));
  const body = JSON.stringify({
    StreamARN: request.streamArn,
    ImageSelectorType: 'PRODUCER_TIMESTAMP',
    StartTimestamp: request.startMs / 1000,
    EndTimestamp: request.endMs / 1000,
    SamplingInterval: request.samplingIntervalMs,
    Format: 'JPEG',
    FormatConfig: { JPEGQuality: '90' },
    ...(request.widthPixels ? { WidthPixels: request.widthPixels } : {}),
    MaxResults: request.maxResults,
    ...(request.nextToken ? { NextToken: request.nextToken } : {}),
  });
  const path = `${endpoint.pathname.replace(/\/$/, '')}/getImages`;
  const signed = await (await getSigner()).sign({
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: endpoint.port ? Number(endpoint.port) : undefined,
    path,
    query: {},
    headers: { 'content-type': 'application/json', host: endpoint.host },
    body,
  });
  let response: Response;
  try {
    response = await fetch(`${endpoint.origin}${path}`, { method: 'POST', headers: signed.headers as Record<string, string>, body });
  } catch (error) {
    forgetEndpoint(request.streamArn);
    const e = error as Error & { cause?: { code?: string } };
    throw Object.assign(new KvsError('NetworkError', `GetImages: ${e.message}`, { httpStatusCode: 0 }), { code: e.cause?.code ?? 'ECONNRESET' });
  }
  const text = await response.text();
  if (response.status !== 200) {
    let type = response.headers.get('x-amzn-errortype') ?? '';
    let message = text;
    try {
      const parsed = JSON.parse(text) as { __type?: string; message?: string; Message?: string };
      type = type || parsed.__type || '';
      message = parsed.message ?? parsed.Message ?? text;
    } catch {
      // not JSON: keep the text
    }
    throw new KvsError(type.split(':')[0].split('#').pop() || `Http${response.status}`, `GetImages: ${message}`, { httpStatusCode: response.status });
  }
  const parsed = JSON.parse(text) as { Images?: Array<{ TimeStamp?: number; Error?: string; ImageContent?: string }>; NextToken?: string };
  const images = (parsed.Images ?? []).map((i) => ({
    timeMs: Math.round((i.TimeStamp ?? 0) * 1000),
    jpeg: i.ImageContent ? Buffer.from(i.ImageContent, 'base64') : undefined,
    error: i.Error ?? (i.ImageContent ? undefined : 'NO_MEDIA'),
  }));
  return { images, nextToken: parsed.NextToken || undefined };
}
