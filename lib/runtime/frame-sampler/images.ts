/** The sampler's GetImages: the shared client (../shared/kvs-images.ts) with its KinesisVideo client and logger. */
import { type ImagesPage, type ImagesRequest, KvsImages } from '../shared/kvs-images';
import { kinesisVideo, logger } from './clients';

export type { ImagesPage, ImagesRequest, KvsImage } from '../shared/kvs-images';

const images = new KvsImages(kinesisVideo, (operation, attempt, error, delayMs) => logger.warn('retrying', { operation, attempt, error: (error as Error).name, delayMs }));

/** One page of GetImages (JPEG, quality 90, producer timestamps), retried when the failure is transient. */
export function getImages(request: ImagesRequest): Promise<ImagesPage> {
  return images.getImages(request);
}
