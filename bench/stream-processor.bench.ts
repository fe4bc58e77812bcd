/**
 * The stream processor custom resource handler: bundle size and cold load against an SDK-only
 * bundle of the Rekognition client and the commands it calls.
 */
import * as path from 'node:path';
import { BenchContext, compareColdLoad, compareSizes, root, Row, sdkBaseline } from './common';

export async function bench(ctx: BenchContext): Promise<Row[]> {
  const processor = path.join(root, 'assets', 'stream-processor', 'index.js');
  const processorBaseline = sdkBaseline(ctx.dir, 'rekognition', {
    '@aws-sdk/client-rekognition': {
      client: 'RekognitionClient',
      commands: [
        'CreateStreamProcessorCommand',
        'DeleteStreamProcessorCommand',
        'DescribeStreamProcessorCommand',
        'StartStreamProcessorCommand',
        'StopStreamProcessorCommand',
        'TagResourceCommand',
        'UntagResourceCommand',
        'UpdateStreamProcessorCommand',
      ],
    },
  });
  return [compareColdLoad('stream-processor handler', processor, processorBaseline, ctx.empty), compareSizes('stream-processor handler', processor, processorBaseline)];
}
