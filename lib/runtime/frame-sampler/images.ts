/**
 * Kinesis Video Streams GetImages (archived media, REST-JSON `POST /getImages`) on the endpoint that
 * GetDataEndpoint(GET_IMAGES) names, cached per stream (GetDataEndpoint allows 5 calls per second
 * per stream), signed by signed.ts. Every call is retried through the shared withRetry (throttling,
 * ClientLimitExceededException, 5xx, network errors); a network error also forgets the endpoint.
 */
import { GetDataEndpointCommand } from '@aws-sdk/client-kinesis-video';
import { retryOptionsFromEnv, withRetry } from '../shared/retry';
import { kinesisVideo, logger } from './clients';
import { ServiceError, signedPost } from './signed';

export interface KvsImage {
  /** Epoch milliseconds (producer timestamp). */
  readonly timeMs: number;
  /** JPEG bytes, or undefined with `error`. */
  readonly jpeg?: Buffer;
  /** NO_MEDIA or MEDIA_ERROR */
  readonly error?: string;
}

const ENDPOINT_TTL_MS = 10 * 60_000;
const endpoints = new Map<string, { url: string; until: number }>();
const retry = retryOptionsFromEnv();
const onRetry = (operation: string, attempt: number, error: unknown, delayMs: number) =>
  logger.warn('retrying', { operation, attempt, error: (error as Error).name, delayMs });

export async function imagesEndpoint(streamArn: string): Promise<string> {
  const cached = endpoints.get(streamArn);
  if (cached && cached.until > Date.now()) {
    return cached.url;
  }
  const { DataEndpoint } = await withRetry(
    'GetDataEndpoint',
    () => kinesisVideo.send(new GetDataEndpointCommand({ StreamARN: streamArn, APIName: 'GET_IMAGES' })),
    retry,
    onRetry,
  );
  if (!DataEndpoint) {
    throw new ServiceError('InvalidResponse', `GetDataEndpoint answered no DataEndpoint for ${streamArn}`, { httpStatusCode: 200 });
  }
  endpoints.set(streamArn, { url: DataEndpoint, until: Date.now() + ENDPOINT_TTL_MS });
  return DataEndpoint;
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

export interface ImagesPage {
  readonly images: KvsImage[];
  readonly nextToken?: string;
  /** The service's clock when it answered (its Date header), epoch ms. */
  readonly serverTime?: number;
}

async function getImagesOnce(request: ImagesRequest): Promise<ImagesPage> {
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
  let answer;
  try {
    answer = await signedPost('kinesisvideo', endpoint, '/getImages', body);
  } catch (error) {
    if ((error as ServiceError).name === 'NetworkError') {
      endpoints.delete(request.streamArn);
    }
    throw error;
  }
  const parsed = JSON.parse(answer.text) as { Images?: Array<{ TimeStamp?: number; Error?: string; ImageContent?: string }>; NextToken?: string };
  const images = (parsed.Images ?? []).map((i) => ({
    timeMs: Math.round((i.TimeStamp ?? 0) * 1000),
    jpeg: i.ImageContent ? Buffer.from(i.ImageContent, 'base64') : undefined,
    error: i.Error ?? (i.ImageContent ? undefined : 'NO_MEDIA'),
  }));
  return { images, nextToken: parsed.NextToken || undefined, serverTime: answer.serverTime };
}

/** One page of GetImages (JPEG, quality 90, producer timestamps), retried when the failure is transient. */
export function getImages(request: ImagesRequest): Promise<ImagesPage> {
  return withRetry('GetImages', () => getImagesOnce(request), retry, onRetry);
}
