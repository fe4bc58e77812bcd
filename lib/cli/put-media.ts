/**
 * PutMedia: streams an MKV file (or standard input) into a Kinesis video stream.
 *
 * 1. GetDataEndpoint (APIName PUT_MEDIA) through the SDK v3 Kinesis Video client;
 * 2. POST /putMedia to that endpoint, SigV4-signed for `kinesisvideo` with the standard credential
 *    chain and Region, with the headers the KVS API reference specifies
 *    (x-amzn-stream-name or x-amzn-stream-arn, x-amzn-fragment-timecode-type,
 *    x-amzn-producer-start-timestamp), the MKV as a chunked body;
 * 3. reads the acknowledgement stream (BUFFERING, RECEIVED, PERSISTED, ERROR, IDLE) and checks that
 *    every fragment sent (every MKV Cluster, by its timecode) is acknowledged PERSISTED.
 *
 * The body is streamed with a few reused buffers (memory does not grow with the file), and a write
 * that fails because the service closed the connection does not discard the acknowledgements that
 * already arrived: the response is read to its end, so an ERROR acknowledgement always decides.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { GetDataEndpointCommand, KinesisVideoClient } from '@aws-sdk/client-kinesis-video';
import { SignatureV4 } from '@smithy/signature-v4';
import { EXIT, NO_REGION, PutMediaError } from './exit';

import { PutMediaOptions, Progress, Upload } from './upload';

export { PutMediaOptions, Progress };
export { EXIT, NO_REGION, PutMediaError };
export { Ack, ACK_ERRORS, AckParser, describeAck } from './acks';

const isArn = (stream: string) => stream.startsWith('arn:');

export async function putMedia(options: PutMediaOptions): Promise<Progress> {
  const client = new KinesisVideoClient({ region: options.region });
  let region: string | undefined;
  try {
    region = await client.config.region();
  } catch {
    region = undefined;
  }
  if (!region) {
    throw new PutMediaError(EXIT.AWS, NO_REGION);
  }
  let endpoint: string;
  try {
    const response = await client.send(
      new GetDataEndpointCommand({ ...(isArn(options.stream) ? { StreamARN: options.stream } : { StreamName: options.stream }), APIName: 'PUT_MEDIA' }),
    );
    endpoint = response.DataEndpoint ?? '';
  } catch (error) {
    const e = error as Error;
    throw new PutMediaError(EXIT.AWS, `GetDataEndpoint for ${options.stream} failed: ${e.name}: ${e.message}`);
  }
  const url = new URL('/putMedia', endpoint);
  const credentials = await client.config.credentials();
  const signer = new SignatureV4({ service: 'kinesisvideo', region, credentials, sha256: Sha256 });
  const headers: Record<string, string> = {
    'host': url.host,
    'x-amzn-fragment-timecode-type': options.timecodeType,
    'x-amzn-producer-start-timestamp': options.producerStartTimestamp.toFixed(3),
    'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    'transfer-encoding': 'chunked',
    'content-type': 'application/octet-stream',
  };
  headers[isArn(options.stream) ? 'x-amzn-stream-arn' : 'x-amzn-stream-name'] = options.stream;
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: {},
      headers,
    },
    { unsignableHeaders: new Set(['transfer-encoding']) },
  );
  return new Upload(url, signed.headers, options).run();
}

