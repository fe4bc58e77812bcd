/**
 * PutMedia: streams an MKV file (or standard input) into a Kinesis video stream.
 *
 * 1. GetDataEndpoint (APIName PUT_MEDIA): one small signed request (lib/cli/kvs-client.ts), with the
 *    Region, endpoint and credentials a KinesisVideoClient would use, without loading the client;
 * 2. POST /putMedia to that endpoint, SigV4-signed for `kinesisvideo` with the same credentials,
 *    with the headers the KVS API reference specifies
 *    (x-amzn-stream-name or x-amzn-stream-arn, x-amzn-fragment-timecode-type,
 *    x-amzn-producer-start-timestamp), the MKV as a chunked body;
 * 3. reads the acknowledgement stream (BUFFERING, RECEIVED, PERSISTED, ERROR, IDLE) and checks that
 *    every fragment sent (every MKV Cluster, by its timecode) is acknowledged PERSISTED.
 *
 * The body is streamed with a few reused buffers (memory does not grow with the file), and a write
 * that fails because the service closed the connection does not discard the acknowledgements that
 * already arrived: the response is read to its end, so an ERROR acknowledgement always decides.
 */
import type { AwsCredentialIdentity } from '@smithy/types';
import { controlPlaneEndpoint, kinesisVideoJson, resolveCredentials, resolveSettings } from './kvs-client';
import { EXIT, NO_REGION, CliError } from './exit';

import { head } from './input-head';
import { notMkv } from './mkv-scanner';
import { signedHeaders } from './sigv4';
import { PutMediaOptions, Progress, Upload } from './upload';

export { PutMediaOptions, Progress };
export { EXIT, NO_REGION, CliError };
export { Ack, ACK_ERRORS, AckParser, describeAck } from './acks';

const isArn = (stream: string) => stream.startsWith('arn:');

export async function putMedia(options: PutMediaOptions): Promise<Progress> {
  // an input that is not an MKV is refused before any request (a FIFO, which cannot be read twice,
  // is checked by the upload before its first byte goes out)
  let start: Buffer | undefined;
  try {
    start = await head(options);
  } catch (error) {
    throw new CliError(EXIT.USAGE, `cannot read the input: ${(error as Error).message}`);
  }
  const problem = start && notMkv(start);
  if (problem !== undefined) {
    throw new CliError(EXIT.USAGE, problem);
  }
  const settings = await resolveSettings(options.region);
  if (!settings) {
    throw new CliError(EXIT.AWS, NO_REGION);
  }
  const { region } = settings;
  let endpoint: string;
  let credentials: AwsCredentialIdentity;
  try {
    credentials = await resolveCredentials(region);
    const response = await kinesisVideoJson<{ DataEndpoint?: string }>({
      endpoint: await controlPlaneEndpoint(settings),
      path: '/getDataEndpoint',
      body: { ...(isArn(options.stream) ? { StreamARN: options.stream } : { StreamName: options.stream }), APIName: 'PUT_MEDIA' },
      region,
      credentials,
    });
    endpoint = response.DataEndpoint ?? '';
  } catch (error) {
    const e = error as Error;
    throw new CliError(EXIT.AWS, `GetDataEndpoint for ${options.stream} failed: ${e.name}: ${e.message}`);
  }
  const url = new URL('/putMedia', endpoint);
  const headers = signedHeaders({
    method: 'POST',
    path: url.pathname,
    headers: {
      'host': url.host,
      [isArn(options.stream) ? 'x-amzn-stream-arn' : 'x-amzn-stream-name']: options.stream,
      'x-amzn-fragment-timecode-type': options.timecodeType,
      'x-amzn-producer-start-timestamp': options.producerStartTimestamp.toFixed(3),
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      'transfer-encoding': 'chunked',
      'content-type': 'application/octet-stream',
    },
    region,
    service: 'kinesisvideo',
    credentials,
  });
  return new Upload(url, headers, options).run();
}

