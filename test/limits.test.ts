/**
 * AWS limits a configuration would break fail when the app synthesizes, with the limit, the count
 * and what to do, never first at deploy.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { FaceStreamPipeline } from '../lib';
import { deployedLength, LIMITS } from '../lib/private/limits';
import { testStack } from './support/stacks';

function synthErrors(stack: Stack): string {
  try {
    (stack.node.root as App).synth();
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}

describe('limits checked at synth time', () => {
  test('more than 500 resources in a stack fails with the count and what to do', () => {
    const stack = testStack();
    new FaceStreamPipeline(stack, 'Faces', { cameras: Array.from({ length: 80 }, (_, i) => ({ name: `camera-${String(i + 1).padStart(3, '0')}` })) });
    const message = synthErrors(stack);
    expect(message).toMatch(/the stack TestStack has \d+ resources; CloudFormation allows 500 per template\. Give the pipeline cameraStacks/);
  });

  test('a Lambda environment over 4 KB fails, measured as the JSON of the whole map', () => {
    const stack = testStack();
    const faces = new FaceStreamPipeline(stack, 'Faces');
    // data streams without the pipeline's naming rule each add a camera entry to the consumer's map
    for (let i = 0; i < 40; i++) {
      const stream = kinesis.Stream.fromStreamArn(stack, `S${i}`, `arn:aws:kinesis:eu-west-1:123456789012:stream/site-a-camera-${i}-faces-results`);
      faces.consumer!.addDataStream(stream, `site-a-camera-${i}`);
    }
    const message = synthErrors(stack);
    expect(message).toMatch(/the environment of TestStack\/Faces\/Consumer\/Handler would be about \d+ bytes, over Lambda's limit of 4096 bytes .*40 data streams have an entry in CAMERAS/);
    // reported once, by the consumer's own check
    expect(message.match(/the environment of TestStack\/Faces\/Consumer\/Handler/g)).toHaveLength(1);
  });

  test('a reference counts as a long string: what passes here fits at deploy', () => {
    const stack = testStack();
    const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'i.h', code: lambda.Code.fromInline('x'), environment: { A: 'abc' } });
    expect(deployedLength(fn, { A: 'abc', B: fn.functionArn })).toBe(JSON.stringify({ A: 'abc', B: 'x'.repeat(256) }).length);
    // a join is the sum of its parts: a map of 29 references in one Fn::Join is 29 references long
    const joined = Stack.of(fn).toJsonString(Object.fromEntries(Array.from({ length: 29 }, (_, i) => [`k${i}`, fn.functionArn])));
    expect(deployedLength(fn, { M: joined })).toBeGreaterThan(29 * 256);
    expect(LIMITS).toEqual({ resources: 500, environmentBytes: 4096, rolePolicyCharacters: 10240, templateBytes: 1_000_000, parameters: 200, outputs: 200 });
  });

  test('the example-sized pipeline passes', () => {
    const stack = testStack();
    new FaceStreamPipeline(stack, 'Faces', { cameras: [{ name: 'a' }, { name: 'b' }], enrollment: true, dashboard: true });
    expect(synthErrors(stack)).toBe('');
  });
});
