/** The sampler's signed POSTs (the successor's Invoke): the shared signer (../shared/signed.ts) with its KinesisVideo client's region and credentials. */
import { SignedPoster } from '../shared/signed';
import { kinesisVideo } from './clients';

export { ServiceError, type SignedResponse } from '../shared/signed';

const poster = new SignedPoster(kinesisVideo);

export const region = (): Promise<string> => poster.region();
export const signedPost = (service: string, endpoint: URL, path: string, body: string, headers: Record<string, string> = {}) => poster.post(service, endpoint, path, body, headers);
