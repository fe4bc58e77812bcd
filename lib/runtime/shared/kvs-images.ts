/**
 * Kinesis Video Streams GetImages (archived media, REST-JSON `POST /getImages`) on the endpoint that
 * GetDataEndpoint(GET_IMAGES) names, cached per stream (GetDataEndpoint allows 5 calls per second
 * per stream), signed by signed.ts. Every call is retried through the shared withRetry (throttling,
 * ClientLimitExceededException, 5xx, network errors); a network error also forgets the endpoint.
 * One client for every handler that reads frames: the frame sampler (its pages of frames) and the
 * consumer (the frame of a stream-processor sighting, for its snapshot).
 */
import { GetDataEndpointCommand, type KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { type OnRetry, type RetryOptions, retryOptionsFromEnv, withRetry } from './retry';
import { ServiceError, SignedPoster } from './signed';

export interface KvsImage {
  /** Epoch milliseconds (producer timestamp). */
  readonly timeMs: number;
  /** JPEG bytes, or undefined with `error`. */
  readonly jpeg?: Buffer;
  /** NO_MEDIA or MEDIA_ERROR */
  readonly error?: string;
}

export interface ImagesRequest {
  readonly streamArn: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly samplingIntervalMs: number;
  readonly widthPixels?: number;
  readonly nextToken?: string;
  readonly maxResults: number;
  /** FormatConfig JPEGQuality (1-100). @default 90 */
  readonly jpegQuality?: number;
  /** Each attempt's limit (GetDataEndpoint and GetImages); a timed-out attempt is retried as a network error. @default - none */
  readonly attemptTimeoutMs?: number;
}

export interface ImagesPage {
  readonly images: KvsImage[];
  readonly nextToken?: string;
  /** The service's clock when it answered (its Date header), epoch ms. */
  readonly serverTime?: number;
}

const ENDPOINT_TTL_MS = 10 * 60_000;

/** GetImages through one KinesisVideo client (its region and credentials sign the calls). */
export class KvsImages {
  private readonly endpoints = new Map<string, { url: string; until: number }>();
  private readonly poster: SignedPoster;

  /**
   * @param retry the retries of every call @default retryOptionsFromEnv()
   * @param onRetry hears of each retry (to log it)
   */
  constructor(
    private readonly client: KinesisVideoClient,
    private readonly onRetry?: OnRetry,
    private readonly retry: RetryOptions = retryOptionsFromEnv(),
  ) {
    this.poster = new SignedPoster(client);
  }

  public async endpoint(streamArn: string, attemptTimeoutMs?: number): Promise<string> {
    const cached = this.endpoints.get(streamArn);
    if (cached && cached.until > Date.now()) {
      return cached.url;
    }
    const { DataEndpoint } = await withRetry(
      'GetDataEndpoint',
      () =>
        this.client.send(
          new GetDataEndpointCommand({ StreamARN: streamArn, APIName: 'GET_IMAGES' }),
          attemptTimeoutMs ? { abortSignal: AbortSignal.timeout(attemptTimeoutMs) } : undefined,
        ),
      this.retry,
      this.onRetry,
    );
    if (!DataEndpoint) {
      throw new ServiceError('InvalidResponse', `GetDataEndpoint answered no DataEndpoint for ${streamArn}`, { httpStatusCode: 200 });
    }
    this.endpoints.set(streamArn, { url: DataEndpoint, until: Date.now() + ENDPOINT_TTL_MS });
    return DataEndpoint;
  }

  /** One page of GetImages (JPEG, producer timestamps), retried when the failure is transient. */
  public getImages(request: ImagesRequest): Promise<ImagesPage> {
    return withRetry('GetImages', () => this.getImagesOnce(request), this.retry, this.onRetry);
  }

  private async getImagesOnce(request: ImagesRequest): Promise<ImagesPage> {
    const endpoint = new URL(await this.endpoint(request.streamArn, request.attemptTimeoutMs));
    const body = JSON.stringify({
      StreamARN: request.streamArn,
      ImageSelectorType: 'PRODUCER_TIMESTAMP',
      StartTimestamp: request.startMs / 1000,
      EndTimestamp: request.endMs / 1000,
      SamplingInterval: request.samplingIntervalMs,
      Format: 'JPEG',
      FormatConfig: { JPEGQuality: String(request.jpegQuality ?? 90) },
      ...(request.widthPixels ? { WidthPixels: request.widthPixels } : {}),
      MaxResults: request.maxResults,
      ...(request.nextToken ? { NextToken: request.nextToken } : {}),
    });
    let answer;
    try {
      const signal = request.attemptTimeoutMs ? AbortSignal.timeout(request.attemptTimeoutMs) : undefined;
      answer = await this.poster.post('kinesisvideo', endpoint, '/getImages', body, {}, { signal });
    } catch (error) {
      if ((error as ServiceError).name === 'NetworkError') {
        this.endpoints.delete(request.streamArn);
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
}
