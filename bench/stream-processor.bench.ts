/**
 * The stream processor custom resource handler and the processor health check: bundle size and
 * cold load of each against an SDK-only bundle of the Rekognition client and the commands it calls.
 * Both now carry Powertools Logger and Metrics (the consumer's logging and metrics style): the
 * ratio shows what that costs at cold start.
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
  const health = path.join(root, 'assets', 'processor-health', 'index.js');
  const healthBaseline = sdkBaseline(ctx.dir, 'rekognition-health', {
    '@aws-sdk/client-rekognition': { client: 'RekognitionClient', commands: ['ListStreamProcessorsCommand', 'DescribeStreamProcessorCommand'] },
  });
  return [
    compareColdLoad('stream-processor handler', processor, processorBaseline, ctx.empty),
    compareSizes('stream-processor handler', processor, processorBaseline),
    compareColdLoad('processor health check', health, healthBaseline, ctx.empty),
    compareSizes('processor health check', health, healthBaseline),
  ];
}
